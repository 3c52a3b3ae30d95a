"""Book-wide checks: the table of contents, the notebooks, the chapter anatomy, the sliders."""
from __future__ import annotations

import re

import pytest
import yaml
from matplotlib.figure import Figure

from paperlab import plotting
from paperlab.widgets import Scrubber, corners, explore
from tests.conftest import ROOT, chapter_modules, chapter_notebooks, load_notebook, toc_files

NOTEBOOKS = chapter_notebooks()
MODULES = chapter_modules()


def test_every_toc_entry_exists():
    for f in toc_files():
        hits = [p for p in (ROOT / f).parent.glob((ROOT / f).name + ".*") if p.suffix in (".md", ".ipynb")]
        assert hits, f"_toc.yml lists {f} but there is no {f}.md or {f}.ipynb"


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    for nb in NOTEBOOKS:
        rel = str(nb.relative_to(ROOT).with_suffix(""))
        assert rel in listed, f"{rel}.ipynb is not in _toc.yml"


def test_parts_match_the_chapter_plan():
    """Notebook folders are part slugs of the plan, and each part's opener page exists."""
    plan = ROOT.parent / "shared" / "chapters"
    parts = {p.stem[3:] for p in plan.glob("[0-9][0-9]-*.md")} if plan.exists() else None
    for nb in NOTEBOOKS:
        part = nb.parent.name
        if parts is not None:
            assert part in parts, f"{nb} is in folder {part!r}, not a part of the plan {sorted(parts)}"
        assert (ROOT / "book" / "parts" / f"{part}.md").exists(), f"part {part} has no opener page"
        assert nb.stem in (ROOT / "book" / "parts" / f"{part}.md").read_text(), \
            f"the opener of part {part} does not mention {nb.stem}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_no_outputs(nb):
    for i, cell in enumerate(load_notebook(nb)["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, \
                f"{nb.name} cell {i} has outputs: run `make strip` before committing"


ANATOMY = [
    ("a label and a title", lambda md, code, nb: re.match(rf"\({re.escape(nb.stem)}\)=\s*\n# ", md)),
    ("a theorem or observation block", lambda md, code, nb: re.search(r"\{prf:(theorem|observation|proposition|lemma)\}", md)),
    ("a citation", lambda md, code, nb: "{cite" in md),
    ("a Background section", lambda md, code, nb: re.search(r"^## Background", md, re.M)),
    ("a method section showing the real code", lambda md, code, nb: re.search(r"^## The method", md, re.M) and "show(" in code),
    ("an experiment section", lambda md, code, nb: re.search(r"^## The experiment", md, re.M)),
    ("an Explore section with one explore() call", lambda md, code, nb: re.search(r"^## Explore", md, re.M) and len(re.findall(r"\bexplore\(\s*\w+\.draw,\s*\*\*\w+\.SLIDERS", code)) == 1),
    ("a 'Does the result hold here?' section with an assert", lambda md, code, nb: re.search(r"^## Does the result hold here\?", md, re.M) and re.search(r"^\s*assert\b", code, re.M)),
    ("a report() of the measured numbers", lambda md, code, nb: re.search(rf"report\(\s*[\"']{re.escape(nb.stem)}[\"']", code)),
    ("a 'What this demonstration does not show' section", lambda md, code, nb: re.search(r"^## What this demonstration does not show", md, re.M)),
    ("exercises with solutions", lambda md, code, nb: md.count("{exercise}") + md.count("{exercise-start}") >= 2 and "{solution" in md),
    ("a References section", lambda md, code, nb: re.search(r"^## References", md, re.M)),
]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_anatomy(nb):
    cells = load_notebook(nb)["cells"]
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    missing = [name for name, ok in ANATOMY if not ok(md, code, nb)]
    assert not missing, f"{nb.name} lacks: " + "; ".join(missing)
    assert "!pip" not in code and "%pip" not in code, f"{nb.name} installs packages"
    assert load_notebook(nb)["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_citations_are_in_the_bibliography(nb):
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    md = "\n".join("".join(c["source"]) for c in load_notebook(nb)["cells"] if c["cell_type"] == "markdown")
    cited = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", md) for k in group.split(",")}
    assert cited, f"{nb.name} cites nothing"
    assert cited <= keys, f"{nb.name} cites keys missing from references.bib: {sorted(cited - keys)}"


def test_every_chapter_has_a_module():
    names = {m.__name__ for m in MODULES}
    for nb in NOTEBOOKS:
        code = "\n".join("".join(c["source"]) for c in load_notebook(nb)["cells"] if c["cell_type"] == "code")
        used = set(re.findall(r"from (paperlab\.[\w.]+) import", code)) | \
            {f"{a}.{b}" for a, b in re.findall(r"from (paperlab\.\w+) import (\w+)", code)}
        assert used & names, f"{nb.name} imports no chapter module with draw/SLIDERS"


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__)
def test_draw_runs_at_every_corner(mod):
    """A slider at any corner of its range still draws, and the figure is released."""
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    for params in corners(mod.SLIDERS):
        fig = mod.draw(**params)
        assert isinstance(fig, Figure), f"{mod.__name__}.draw({params}) returned {type(fig).__name__}"
        assert all(ax.get_xlabel() or not ax.axison or not ax.has_data() for ax in fig.axes), \
            f"{mod.__name__}.draw({params}) has an unlabelled x axis"
        plotting.to_png(fig, dpi=40)
        plotting.close(fig)
    assert len(plt.get_fignums()) == before, f"{mod.__name__}.draw leaves pyplot figures open"


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__)
def test_website_scrubber(mod, static_mode):
    sc = explore(mod.draw, **mod.SLIDERS)
    assert isinstance(sc, Scrubber)
    assert len(sc.frames) >= 2
    assert len(set(sc.frames)) >= 2, f"the {sc.name} scrubber of {mod.__name__} shows the same picture"
    assert sc.nbytes < 2_000_000, f"{mod.__name__}: {sc.nbytes / 1e6:.1f} MB of frames (limit 2 MB)"


def test_config_builds_strictly():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert cfg["execute"]["execute_notebooks"] == "cache"
    assert cfg["execute"]["allow_errors"] is False
    assert {"sphinx_proof", "sphinx_exercise"} <= set(cfg["sphinx"]["extra_extensions"])
    assert "--warningiserror" in (ROOT / "Makefile").read_text()
    assert (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1] == "make test"
