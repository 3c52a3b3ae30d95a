"""The one slider panel every chapter uses: :func:`explore`.

A chapter's module declares its interactive figure as a plain function
``draw(**params) -> matplotlib.figure.Figure`` and, beside it, a ``SLIDERS`` mapping from each
parameter name to a slider spec (:class:`FloatSlider`, :class:`LogSlider`, :class:`IntSlider`
or :class:`Choice`). The notebook only calls ``explore(module.draw, **module.SLIDERS)``.

``explore`` has two modes.

* **Live** (a Jupyter kernel, ``make lab``): ipywidgets controls for every parameter around an
  output area that ``draw`` redraws in place.
* **Website** (the book build sets ``PAPERLAB_STATIC=1`` for the executing kernel): no kernel
  will be running when a reader opens the page, so ``explore`` precomputes one frame per value
  of the *main* parameter (the first entry of ``SLIDERS`` unless ``main=`` says otherwise), the
  other parameters at their defaults, and emits plain HTML: the frames as PNG images and a
  range input whose ``oninput`` shows one of them. No server, no CDN, no external script.

Because every chapter declares its parameter box the same way, the tests can sweep every
``draw`` over the corners of its box (:func:`corners`) and the benchmark can time random
points of it (:func:`sample`).
"""
from __future__ import annotations

import base64
import gc
import html
import inspect
import itertools
import json
import math
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from . import plotting
from ._validate import check_choice, check_int, check_real

__all__ = ["FloatSlider", "LogSlider", "IntSlider", "Choice", "explore", "render", "corners", "sample",
           "defaults", "static_mode", "Scrubber", "STATIC_ENV"]

#: Environment variable that switches :func:`explore` to the website (static) mode.
STATIC_ENV = "PAPERLAB_STATIC"
#: Upper bound on frames in a website scrubber (keeps a page light: about 40 kB a frame).
MAX_FRAMES = 12


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


@dataclass(frozen=True)
class FloatSlider:
    """A real parameter on a linear scale, ``min <= value <= max``."""

    min: float
    max: float
    default: float
    step: float | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if not self.min < self.max:
            raise ValueError(f"FloatSlider needs min < max, got min={self.min}, max={self.max}")
        check_real("default", self.default, self.min, self.max)

    def corners(self) -> list[float]:
        return [float(self.min), float(self.max)]

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.min, self.max))

    def grid(self, k: int) -> list[float]:
        return sorted(set(np.linspace(self.min, self.max, k).round(12).tolist()) | {float(self.default)})

    def widget(self, name: str):
        import ipywidgets as w
        step = self.step if self.step is not None else (self.max - self.min) / 100
        return w.FloatSlider(value=self.default, min=self.min, max=self.max, step=step,
                             description=self.label or name, continuous_update=False,
                             readout_format=".3g", style={"description_width": "initial"})


@dataclass(frozen=True)
class LogSlider:
    """A positive real parameter on a logarithmic scale (e.g. a step size from 0.01 to 1e4)."""

    min: float
    max: float
    default: float
    label: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.min < self.max:
            raise ValueError(f"LogSlider needs 0 < min < max, got min={self.min}, max={self.max}")
        check_real("default", self.default, self.min, self.max)

    def corners(self) -> list[float]:
        return [float(self.min), float(self.max)]

    def sample(self, rng: np.random.Generator) -> float:
        return float(10 ** rng.uniform(math.log10(self.min), math.log10(self.max)))

    def grid(self, k: int) -> list[float]:
        g = np.geomspace(self.min, self.max, k)
        return sorted({float(f"{v:.3g}") for v in g[1:-1]} | {float(self.min), float(self.max),
                                                              float(self.default)})

    def widget(self, name: str):
        import ipywidgets as w
        return w.FloatLogSlider(value=self.default, base=10, min=math.log10(self.min),
                                max=math.log10(self.max), step=0.05, description=self.label or name,
                                continuous_update=False, readout_format=".3g",
                                style={"description_width": "initial"})


@dataclass(frozen=True)
class IntSlider:
    """An integer parameter, ``min <= value <= max`` in steps of ``step``."""

    min: int
    max: int
    default: int
    step: int = 1
    label: str | None = None

    def __post_init__(self) -> None:
        if not self.min < self.max:
            raise ValueError(f"IntSlider needs min < max, got min={self.min}, max={self.max}")
        check_int("default", self.default, self.min, self.max)
        check_int("step", self.step, 1)

    def corners(self) -> list[int]:
        return [int(self.min), int(self.max)]

    def sample(self, rng: np.random.Generator) -> int:
        n = (self.max - self.min) // self.step
        return int(self.min + self.step * rng.integers(0, n + 1))

    def grid(self, k: int) -> list[int]:
        vals = np.linspace(self.min, self.max, k)
        snapped = {int(self.min + self.step * round((v - self.min) / self.step)) for v in vals}
        return sorted({min(v, self.max) for v in snapped} | {int(self.default)})

    def widget(self, name: str):
        import ipywidgets as w
        return w.IntSlider(value=self.default, min=self.min, max=self.max, step=self.step,
                           description=self.label or name, continuous_update=False,
                           style={"description_width": "initial"})


@dataclass(frozen=True)
class Choice:
    """A parameter with a few named options (a dropdown)."""

    options: tuple
    default: Any = None
    label: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", tuple(self.options))
        if not self.options:
            raise ValueError("Choice needs at least one option")
        if self.default is None:
            object.__setattr__(self, "default", self.options[0])
        check_choice("default", self.default, self.options)

    def corners(self) -> list:
        return list(self.options)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(0, len(self.options)))]

    def grid(self, k: int) -> list:
        return list(self.options)

    def widget(self, name: str):
        import ipywidgets as w
        return w.Dropdown(options=list(self.options), value=self.default,
                          description=self.label or name, style={"description_width": "initial"})


Spec = FloatSlider | LogSlider | IntSlider | Choice


def _check_specs(draw: Callable[..., Figure], sliders: Mapping[str, Spec]) -> None:
    if not callable(draw):
        raise ValueError(f"draw must be a function returning a matplotlib Figure, got {draw!r}")
    if not sliders:
        raise ValueError("explore needs at least one slider, e.g. explore(draw, gamma=LogSlider(...))")
    params = inspect.signature(draw).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for name, spec in sliders.items():
        if not isinstance(spec, (FloatSlider, LogSlider, IntSlider, Choice)):
            raise ValueError(f"slider {name!r} must be a FloatSlider, LogSlider, IntSlider or "
                             f"Choice, got {type(spec).__name__}")
        if name not in params and not takes_kwargs:
            raise ValueError(f"slider {name!r} is not a parameter of {draw.__name__}"
                             f"{inspect.signature(draw)}")


def defaults(sliders: Mapping[str, Spec]) -> dict[str, Any]:
    """The default value of every parameter."""
    return {k: s.default for k, s in sliders.items()}


def corners(sliders: Mapping[str, Spec]) -> Iterator[dict[str, Any]]:
    """Every corner of the parameter box: each numeric slider at its min and max, each choice
    at every option (all combinations)."""
    names = list(sliders)
    for combo in itertools.product(*(sliders[n].corners() for n in names)):
        yield dict(zip(names, combo))


def sample(sliders: Mapping[str, Spec], rng: np.random.Generator) -> dict[str, Any]:
    """A uniformly random point of the parameter box (log-uniform on log sliders)."""
    return {k: s.sample(rng) for k, s in sliders.items()}


def static_mode() -> bool:
    """True when the book build asked for website (precomputed) sliders."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0", "false", "False")


@dataclass
class Scrubber:
    """A precomputed slider for the website: PNG frames and a range input, plain HTML."""

    name: str
    label: str
    values: list
    frames: list[bytes]
    start: int
    note: str
    uid: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def _repr_html_(self) -> str:
        imgs = []
        for i, (v, png) in enumerate(zip(self.values, self.frames)):
            b64 = base64.b64encode(png).decode("ascii")
            shown = "block" if i == self.start else "none"
            alt = html.escape(f"figure at {self.label} = {_fmt(v)}")
            imgs.append(f'<img class="plx-frame" style="display:{shown};max-width:100%;height:auto" '
                        f'alt="{alt}" src="data:image/png;base64,{b64}"/>')
        labels = html.escape(json.dumps([_fmt(v) for v in self.values]))
        onin = ("var s=this.closest('.paperlab-scrubber');var f=s.querySelectorAll('.plx-frame');"
                "for(var j=0;j<f.length;j++){f[j].style.display=(j==this.value)?'block':'none';}"
                "s.querySelector('.plx-value').textContent=JSON.parse(this.dataset.labels)[this.value];")
        return (
            f'<div class="paperlab-scrubber" id="plx-{self.uid}" data-param="{html.escape(self.name)}">'
            f'<div class="plx-frames">{"".join(imgs)}</div>'
            f'<label style="display:flex;align-items:center;gap:0.6em;margin:0.4em 0">'
            f'<span>{html.escape(self.label)}</span>'
            f'<input class="plx-range" type="range" min="0" max="{len(self.frames) - 1}" step="1" '
            f'value="{self.start}" data-labels="{labels}" oninput="{html.escape(onin)}" '
            f'aria-label="{html.escape(self.label)}" style="flex:1;max-width:28em"/>'
            f'<output class="plx-value">{html.escape(_fmt(self.values[self.start]))}</output></label>'
            f'<p class="plx-note" style="font-size:0.85em;opacity:0.8;margin:0">{html.escape(self.note)}</p>'
            f'</div>')

    def __repr__(self) -> str:
        return (f"Scrubber over {self.name} ({len(self.frames)} frames: "
                f"{', '.join(_fmt(v) for v in self.values)})")

    @property
    def nbytes(self) -> int:
        """Size of the embedded frames in bytes (base64 adds a third on the page)."""
        return sum(len(f) for f in self.frames)


def render(draw: Callable[..., Figure], params: Mapping[str, Any], *, dpi: int = 80,
           fast: bool = True) -> bytes:
    """``draw(**params)`` rendered to PNG bytes: one slider move, as the reader sees it.

    The live panel, the website frames and the slider benchmark all go through here. Python's
    cyclic garbage collector is paused while the figure is built and rendered (matplotlib makes
    thousands of small objects, and a collection in the middle of a redraw doubles its
    latency); it runs again as soon as the picture is out.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        fig = draw(**params)
        if not isinstance(fig, Figure):
            raise ValueError(f"{getattr(draw, '__name__', 'draw')} must return a matplotlib Figure, "
                             f"got {type(fig).__name__}")
        try:
            return plotting.to_png(fig, dpi=dpi, fast=fast)
        finally:
            plotting.close(fig)
    finally:
        if was_enabled:
            gc.enable()


def explore(draw: Callable[..., Figure], *, main: str | None = None, frames: int = MAX_FRAMES,
            dpi: int = 80, **sliders: Spec):
    """Show ``draw`` with one control per parameter (explained in every chapter's Explore section).

    Parameters
    ----------
    draw:
        ``draw(**params) -> Figure``, the chapter's interactive figure.
    main:
        The parameter the website scrubber varies; defaults to the first slider.
    frames:
        At most this many frames in the website scrubber (2 to 24).
    dpi:
        Resolution of the website frames.
    **sliders:
        One spec per parameter of ``draw``, usually ``**module.SLIDERS``.

    Returns
    -------
    In a live kernel an ipywidgets box (displayed by the notebook); in website mode a
    :class:`Scrubber`, whose HTML is the slider on the page.
    """
    _check_specs(draw, sliders)
    frames = check_int("frames", frames, 2, 24)
    main = main if main is not None else next(iter(sliders))
    check_choice("main", main, list(sliders))
    if static_mode():
        return _static(draw, main, frames, dpi, sliders)
    return _live(draw, sliders, dpi=max(dpi, 90))


def _static(draw, main: str, k: int, dpi: int, sliders: Mapping[str, Spec]) -> Scrubber:
    spec = sliders[main]
    values = spec.grid(k)
    if len(values) > k:  # the default was added to the grid: one grid point fewer
        values = spec.grid(k - 1)
    base = defaults(sliders)
    kept: list[tuple[Any, bytes]] = []
    for v in values:
        png = render(draw, {**base, main: v}, dpi=dpi, fast=False)
        if kept and png == kept[-1][1]:      # a draw that snaps its input: one frame per picture
            if v == spec.default:
                kept[-1] = (v, png)
            continue
        kept.append((v, png))
    values, pngs = [v for v, _ in kept], [p for _, p in kept]
    others = ", ".join(f"{(s.label or n)} = {_fmt(s.default)}" for n, s in sliders.items() if n != main)
    note = ("Precomputed frames: drag the slider to change " + (spec.label or main)
            + (f" ({others} held fixed)" if others else "")
            + ". Run the chapter in JupyterLab (make lab) for live sliders on every parameter.")
    return Scrubber(name=main, label=spec.label or main, values=values, frames=pngs,
                    start=values.index(spec.default), note=note)


def _live(draw, sliders: Mapping[str, Spec], dpi: int):
    import ipywidgets as w
    from IPython.display import Image, display

    controls = {name: spec.widget(name) for name, spec in sliders.items()}
    out = w.Output()

    def redraw(**params):
        out.clear_output(wait=True)
        with out:
            try:
                png = render(draw, params, dpi=dpi)
            except ValueError as exc:  # a bad combination is reported, not a traceback
                print(f"Cannot draw this combination: {exc}")
                return
            display(Image(data=png, format="png"))

    def on_change(_change) -> None:
        redraw(**{n: c.value for n, c in controls.items()})

    for c in controls.values():
        c.observe(on_change, names="value")
    on_change(None)
    return w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), out])
