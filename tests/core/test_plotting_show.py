import matplotlib
import pytest

from paperlab import data, plotting, show


def test_figure_is_house_styled_and_not_in_pyplot():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    fig, axes = plotting.figure(2, 1)
    assert len(axes) == 2 and axes.ndim == 1
    assert len(plt.get_fignums()) == before
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == plotting.PALETTE[0]
    plotting.labels(axes[0], "x", "y", "t")
    plotting.message(axes[1], "nothing to show")
    plotting.key(axes[1], [("a", "red"), ("b", "blue", "x")])
    assert [t.get_text() for t in axes[1].texts[-2:]] == ["\u25cf a", "x b"]
    plotting.band(axes[0], [0, 1, 2], [[0, 1, 2], [1, 2, 3]], label="m")
    png = plotting.to_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_displays_the_real_source():
    src = show(data.blobs)
    assert src.qualname == "paperlab.data.blobs"
    assert src.path == "src/paperlab/data.py"
    assert src.code.startswith("def blobs(")
    assert "blobs" in src._repr_html_() and 'class="highlight"' in src._repr_html_()
    assert src.last_line >= src.first_line


def test_show_module_and_bad_object():
    assert show(data).first_line == 1
    with pytest.raises(ValueError, match="cannot read the source"):
        show(len)


def test_key_picks_the_emptiest_corner():
    import numpy as np
    from paperlab import plotting
    fig, (ax,) = plotting.figure(1)
    x = np.linspace(0, 1, 200)
    ax.plot(x, 1 - 0.2 * x)            # a line along the top: the key must go to the bottom
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    plotting.key(ax, [("a", "C0"), ("b", "C1")])
    ys = [t.get_position()[1] for t in ax.texts]
    assert max(ys) < 0.5
    plotting.close(fig)
