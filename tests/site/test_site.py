"""The built website, opened in a real headless browser (Debian's chromium via Playwright).

Run by ``make test`` after ``make book``. For every page in the table of contents: it loads
with no console errors and no request leaving the machine; on every chapter page the math is
rendered by MathJax, the figures are present and loaded, and moving the website slider changes
the picture. A full-page screenshot of each chapter is saved under ``_build/screenshots/``.
"""
from __future__ import annotations

import functools
import http.server
import os
import pathlib
import threading
import urllib.parse

import pytest

from tests.conftest import ROOT, toc_files

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Messages the browser logs that are not the page's fault.
BENIGN = ("Got invalid theme mode",)
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]

PAGES = [f for f in toc_files()]
CHAPTERS = [f for f in PAGES if f.startswith("notebooks/")]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("the website is not built: run `make book` before the site test")
    handler = functools.partial(_Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: `make browser` installs Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def _open(browser, url: str):
    """Open ``url``; return (page, console errors, outside requests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    outside: list[str] = []

    def route(r):
        host = urllib.parse.urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith(BENIGN) else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page, errors, outside


@pytest.mark.parametrize("doc", PAGES, ids=lambda f: f.split("/")[-1])
def test_page_loads_offline(server, browser, doc):
    ctx, page, errors, outside = _open(browser, f"{server}/{doc}.html")
    try:
        assert page.title(), f"{doc} has no title"
        assert not outside, f"{doc} requested resources outside the machine: {outside[:5]}"
        assert not errors, f"{doc} logged console errors: {errors[:5]}"
    finally:
        ctx.close()


@pytest.mark.parametrize("doc", CHAPTERS, ids=lambda f: f.split("/")[-1])
def test_chapter_page(server, browser, doc):
    ctx, page, errors, outside = _open(browser, f"{server}/{doc}.html")
    try:
        # MathJax typesets after load: wait for its promise, then count rendered formulas.
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
        n_math = page.locator("mjx-container").count()
        assert n_math > 5, f"{doc}: only {n_math} formulas rendered by MathJax"
        assert page.locator("mjx-merror").count() == 0, f"{doc}: MathJax reports a formula error"

        figures = page.locator(".cell_output img:not(.plx-frame)")
        assert figures.count() >= 1, f"{doc}: no figure in the cell outputs besides the slider"
        widths = page.evaluate("() => Array.from(document.querySelectorAll('.cell_output img'))"
                               ".filter(i => i.style.display !== 'none').map(i => i.naturalWidth)")
        assert widths and min(widths) > 0, f"{doc}: a figure did not load"

        scrubbers = page.locator(".paperlab-scrubber")
        assert scrubbers.count() == 1, f"{doc}: expected one website slider, found {scrubbers.count()}"
        rng = scrubbers.locator("input.plx-range")
        visible = "s => Array.from(s.querySelectorAll('.plx-frame')).filter(i => i.style.display !== 'none').map(i => i.src)"
        before = scrubbers.evaluate(visible)
        label_before = scrubbers.locator(".plx-value").inner_text()
        assert len(before) == 1, f"{doc}: {len(before)} frames visible at once"
        rng.scroll_into_view_if_needed()
        at_max = rng.evaluate("r => r.value === r.max")
        rng.focus()
        page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
        after = scrubbers.evaluate(visible)
        assert len(after) == 1 and after[0] != before[0], f"{doc}: moving the slider did not change the picture"
        assert scrubbers.locator(".plx-value").inner_text() != label_before, f"{doc}: the slider's value label did not change"

        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.evaluate("() => window.scrollTo(0, 0)")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{doc.split('/')[-1]}.png"), full_page=True)
        assert not outside, f"{doc} requested resources outside the machine: {outside[:5]}"
        assert not errors, f"{doc} logged console errors: {errors[:5]}"
    finally:
        ctx.close()
