"""What every real-browser test shares: Debian's Chromium driven by Playwright, axe-core.

``from browser_support import browser, ...`` in a test module; the module is skipped when
Chromium is missing, except in CI, which must run the browser tests.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
#: Tests write their screenshots outside the tracked tree; `scripts/screenshots.sh` points this
#: at docs/screenshots/ to refresh the pictures the docs show.
SCREENSHOTS = Path(os.environ.get("SEDA_SCREENSHOTS") or Path(tempfile.gettempdir()) / "seda-screenshots")
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

if not CHROMIUM.exists():  # pragma: no cover - the install script provides it
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser tests: /usr/bin/chromium is missing")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


def launch_chromium(extra_args: tuple[str, ...] = ()):
    """A module-scoped ``browser`` fixture for Chromium with our flags (plus ``extra_args``)."""

    @pytest.fixture(scope="module")
    def browser():
        with playwright_api.sync_playwright() as p:
            launched = p.chromium.launch(executable_path=str(CHROMIUM), args=[*ARGS, *extra_args])
            yield launched
            launched.close()

    return browser


def axe_violations(page, *, with_summary: bool = False) -> list[dict]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    node = "n.target.join(' ') + ' :: ' + n.failureSummary" if with_summary else "n.target.join(' ')"
    return page.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        f" nodes: v.nodes.map(n => {node}).slice(0, 5)}}))", WCAG)
