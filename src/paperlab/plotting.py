"""One house style for every figure in the book.

Chapters and ``draw`` functions build their figures with :func:`figure`, label axes with
:func:`labels` (every axis gets a quantity and, where it has one, a unit), and show a
corner-case message with :func:`message` instead of raising. The palette is Okabe and Ito's
colour-blind-safe set, which reads on the white figure background in the site's light and dark
modes alike.
"""
from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["PALETTE", "RC", "style", "figure", "labels", "message", "key", "band", "to_png", "close"]

#: Okabe-Ito colours (blue, orange, green, vermillion, purple, sky, yellow, black).
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00",
                            "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: The rcParams of the house style.
RC: dict = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "axes.titlesize": 11,
    # A fixed title height: matplotlib otherwise measures every tick label of the row to lift
    # titles over top-side labels, which is a third of a slider redraw; no figure of the book
    # puts tick labels on top.
    "axes.titley": 1.0,
    "axes.titlepad": 5.0,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    # Unhinted glyphs render about a quarter faster, and at these sizes look the same: text is
    # the largest share of a slider redraw.
    "text.hinting": "no_hinting",
}


def style() -> None:
    """Apply the house style to matplotlib's global settings (idempotent)."""
    matplotlib.rcParams.update(RC)


#: Margins of the ``"fixed"`` layout, in inches (left, right, bottom, top, gap between panels).
FIXED_MARGINS = (0.75, 0.2, 0.6, 0.4, 0.85)


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None,
           height: float | None = None, layout: str = "constrained",
           **kwargs) -> tuple[Figure, np.ndarray]:
    """Return ``(fig, axes)`` in the house style; ``axes`` is always a flat numpy array.

    The default size is 3.6 inches wide per column (at most 10 inches) by 3.4 inches per row.
    The figure is created with :class:`matplotlib.figure.Figure` directly, not through pyplot,
    so a slider that redraws many times never accumulates open figures.

    ``layout`` is ``"constrained"`` (matplotlib's constrained layout: the best spacing, at the
    cost of an extra layout pass), ``"fixed"`` (fixed margins in inches, :data:`FIXED_MARGINS`:
    about twice as fast to render, what a chapter's ``draw`` should use to stay within the
    150 ms slider budget) or ``"none"`` (the caller places the axes itself).
    """
    style()
    if layout not in ("constrained", "fixed", "none"):
        raise ValueError(f"layout must be one of ['constrained', 'fixed', 'none'], got {layout!r}")
    w = width if width is not None else min(10.0, 3.6 * ncols + 0.4)
    h = height if height is not None else 3.4 * nrows
    fig = Figure(figsize=(w, h), layout="constrained" if layout == "constrained" else "none")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    if layout == "fixed":
        left, right, bottom, top, gap = FIXED_MARGINS
        panel_w = max((w - left - right - gap * (ncols - 1)) / ncols, 0.5)
        panel_h = max((h - bottom - top - gap * (nrows - 1)) / nrows, 0.5)
        fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h,
                            wspace=gap / panel_w, hspace=gap / panel_h)
    return fig, np.asarray(axes).ravel()


def labels(ax: Axes, xlabel: str, ylabel: str, title: str | None = None) -> Axes:
    """Label both axes (and optionally the title) of ``ax``; returns ``ax`` for chaining."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def message(ax: Axes, text: str) -> Axes:
    """Write ``text`` in the middle of ``ax``: how a ``draw`` reports a corner case.

    A slider at the edge of its range must still draw; when a combination has nothing to
    show (a method that did not converge, an empty selection), the figure says so in words.
    """
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=10,
            wrap=True, bbox=dict(boxstyle="round", facecolor="#fff7e0", edgecolor=PALETTE[1]))
    return ax


def key(ax: Axes, entries: Sequence[tuple], *, x: float | None = None, y: float | None = None,
        dy: float = 0.075, fontsize: float = 8, width: float = 0.42) -> Axes:
    """A light legend for slider figures: one coloured line of text per entry.

    ``entries`` are ``(label, color)`` or ``(label, color, symbol)`` (default symbol a dot),
    stacked from ``(x, y)`` in axes coordinates. Drawing a matplotlib legend costs 10-30 ms of
    a redraw; these few text lines cost a fraction of that.

    With ``x`` and ``y`` left out, the key goes in whichever corner of the axes (upper left,
    upper right, lower left, lower right) covers the fewest points of the lines already
    plotted, assuming the key is about ``width`` (axes fraction) wide; so call it after plotting.
    """
    if x is None or y is None:
        x, y = _best_corner(ax, len(entries) * dy + 0.02, width, x, y)
    for i, entry in enumerate(entries):
        label, color, symbol = (*entry, "\u25cf")[:3]
        ax.text(x, y - i * dy, f"{symbol} {label}", transform=ax.transAxes, color=color,
                fontsize=fontsize, va="top", ha="left", zorder=5)
    return ax


def _densify(p: np.ndarray, n: int = 120) -> np.ndarray:
    """Points along a polyline with few vertices (e.g. an ``axhline``), so a corner box that a
    straight segment crosses counts as covered."""
    if len(p) < 2 or len(p) >= n:
        return p
    s = np.linspace(0, len(p) - 1, n)
    i = np.minimum(s.astype(int), len(p) - 2)
    f = (s - i)[:, None]
    return p[i] * (1 - f) + p[i + 1] * f


def _best_corner(ax: Axes, height: float, width: float, x: float | None,
                 y: float | None) -> tuple[float, float]:
    """Top-left ``(x, y)`` of the corner box that hides the fewest plotted line points."""
    xs = [x] if x is not None else [0.03, 0.97 - width]
    ys = [y] if y is not None else [0.96, 0.04 + height]
    to_axes = ax.transData + ax.transAxes.inverted()
    pts = [to_axes.transform(np.asarray(line.get_xydata(), dtype=float)) for line in ax.lines]
    pts = [_densify(p[np.all(np.isfinite(p), axis=1)]) for p in pts]
    P = np.concatenate(pts) if pts else np.empty((0, 2))
    best, where = None, (xs[0], ys[0])
    for yy in ys:                      # top first: ties keep the key at the top left
        for xx in xs:
            n = int(np.count_nonzero((P[:, 0] >= xx - 0.02) & (P[:, 0] <= xx + width)
                                     & (P[:, 1] <= yy + 0.02) & (P[:, 1] >= yy - height)))
            if best is None or n < best:
                best, where = n, (xx, yy)
    return where


def band(ax: Axes, x: Sequence[float], ys: np.ndarray, *, label: str | None = None,
         color: str | None = None, q: tuple[float, float] = (0.1, 0.9)) -> Axes:
    """Plot the median of ``ys`` (seeds x points) against ``x`` with a shaded quantile band."""
    ys = np.atleast_2d(np.asarray(ys, dtype=float))
    med = np.median(ys, axis=0)
    (line,) = ax.plot(x, med, label=label, color=color)
    if ys.shape[0] > 1:
        lo, hi = np.quantile(ys, q, axis=0)
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    return ax


def to_png(fig: Figure, dpi: int = 80, *, fast: bool = False) -> bytes:
    """Render ``fig`` to PNG bytes.

    ``fast`` uses the lightest PNG compression: about 10 ms faster and 30 % larger, which is
    the right trade for the live slider panel; the website's frames use the default
    compression, since there the page size matters and the time does not.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1} if fast else None)
    return buf.getvalue()


def close(fig: Figure) -> None:
    """Release a figure made by :func:`figure` or pyplot."""
    plt.close(fig)


def _register_ipython_display() -> None:
    """Make a :class:`~matplotlib.figure.Figure` display as a PNG in Jupyter.

    Figures made by :func:`figure` are not managed by pyplot, so no backend shows them; with
    this formatter a cell whose last expression is a figure shows it, in a live kernel and in
    the book build alike, whatever ``MPLBACKEND`` says.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is installed with Jupyter
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "display_formatter"):
        return
    ip.display_formatter.formatters["image/png"].for_type(Figure, lambda fig: to_png(fig, dpi=100))


_register_ipython_display()
