import html
import re

import numpy as np
import pytest

from paperlab import plotting
from paperlab.widgets import (Choice, FloatSlider, IntSlider, LogSlider, Scrubber, corners,
                              defaults, explore, sample)


def draw(a: float = 1.0, n: int = 3, kind: str = "line"):
    fig, (ax,) = plotting.figure()
    x = np.linspace(0, 1, n)
    (ax.plot if kind == "line" else ax.scatter)(x, a * x)
    plotting.labels(ax, "x (unitless)", "a x")
    return fig


SLIDERS = {"a": LogSlider(0.1, 10.0, default=1.0, label="slope a"),
           "n": IntSlider(2, 20, default=3),
           "kind": Choice(("line", "dots"))}


def test_specs_validate_themselves():
    with pytest.raises(ValueError, match="min < max"):
        FloatSlider(1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match="0 < min < max"):
        LogSlider(0.0, 1.0, 0.5)
    with pytest.raises(ValueError, match=r"default must be in \[0, 1\]"):
        FloatSlider(0.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="default must be one of"):
        Choice(("a", "b"), default="c")
    assert Choice(("a", "b")).default == "a"


def test_corners_cover_the_box():
    cs = list(corners(SLIDERS))
    assert len(cs) == 2 * 2 * 2
    assert {c["a"] for c in cs} == {0.1, 10.0}
    assert {c["kind"] for c in cs} == {"line", "dots"}


def test_sample_stays_in_the_box():
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = sample(SLIDERS, rng)
        assert 0.1 <= p["a"] <= 10 and 2 <= p["n"] <= 20 and p["kind"] in ("line", "dots")
    assert defaults(SLIDERS) == {"a": 1.0, "n": 3, "kind": "line"}


def test_grids_include_default_and_ends():
    for spec in SLIDERS.values():
        g = spec.grid(8)
        assert spec.default in g
        assert spec.corners()[0] in g and spec.corners()[-1] in g
    assert IntSlider(0, 100, 50, step=10).grid(4) == [0, 30, 50, 70, 100]


def test_explore_rejects_unknown_parameter():
    with pytest.raises(ValueError, match="slider 'b' is not a parameter of draw"):
        explore(draw, b=FloatSlider(0, 1, 0.5))
    with pytest.raises(ValueError, match="main must be one of"):
        explore(draw, main="zzz", **SLIDERS)
    with pytest.raises(ValueError, match="at least one slider"):
        explore(draw)


def test_explore_live_builds_a_panel(monkeypatch):
    monkeypatch.delenv("PAPERLAB_STATIC", raising=False)
    import ipywidgets as w

    box = explore(draw, **SLIDERS)
    assert isinstance(box, w.VBox)
    controls = box.children[0].children
    assert [type(c).__name__ for c in controls] == ["FloatLogSlider", "IntSlider", "Dropdown"]
    controls[1].value = 7  # moving a slider redraws without error


def test_explore_static_makes_a_working_scrubber(static_mode):
    sc = explore(draw, **SLIDERS)
    assert isinstance(sc, Scrubber)
    assert sc.name == "a" and 2 <= len(sc.frames) <= 12
    assert sc.values[sc.start] == 1.0
    assert len(set(sc.frames)) == len(sc.frames), "every frame must differ"
    page = sc._repr_html_()
    assert page.count('class="plx-frame"') == len(sc.frames)
    assert page.count("display:block") == 1
    assert 'type="range"' in page and "oninput=" in page
    assert "http" not in page, "the scrubber must not load anything from outside"
    labels = re.search(r'data-labels="([^"]*)"', page).group(1)
    assert len(eval(html.unescape(labels))) == len(sc.frames)
    assert sc.nbytes < 2_000_000


def test_explore_static_main_parameter(static_mode):
    sc = explore(draw, main="kind", **SLIDERS)
    assert sc.values == ["line", "dots"]


def test_report_prints_and_records(tmp_path, monkeypatch, capsys):
    import json

    from paperlab.checks import report

    rec = tmp_path / "r.jsonl"
    monkeypatch.setenv("PAPERLAB_RECORD", str(rec))
    out = report("demo", n=np.int64(3), err=np.float64(1e-12), ok=np.bool_(True), xs=[1, 2.5])
    assert out == {"n": 3, "err": 1e-12, "ok": True, "xs": [1, 2.5]}
    printed = capsys.readouterr().out
    assert "n   = 3" in printed and "err = 1e-12" in printed
    assert json.loads(rec.read_text()) == {"chapter": "demo", "quantities": out}
    with pytest.raises(ValueError, match="at least one"):
        report("demo")
    with pytest.raises(ValueError, match="takes numbers"):
        report("demo", f=object())


def test_scrubber_keeps_one_frame_per_distinct_picture(monkeypatch):
    from paperlab import plotting
    from paperlab.widgets import LogSlider, explore
    monkeypatch.setenv("PAPERLAB_STATIC", "1")

    def draw(x=4.0):
        fig, (ax,) = plotting.figure(1, width=2, height=2)
        ax.set_title(f"{2 ** round(__import__('math').log2(x))}")   # snaps x to a power of 2
        return fig

    sc = explore(draw, x=LogSlider(0.5, 128.0, default=4.0))
    assert len(set(sc.frames)) == len(sc.frames)
    assert sc.values[sc.start] == 4.0
