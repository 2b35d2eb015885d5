"""Drive the web rater (rate-package --web) in Debian's Chromium with Playwright, as a rater would.

Used by tests/test_web_rater.py and by the web path of tools/simulate_rater_study.py. Playwright's
own browser download is never used: the browser is /usr/bin/chromium (``apt-get install
chromium``), headless, with a fresh profile per ``WebRater``, so each rater starts with empty
browser storage unless the test reloads the same page. Every action waits for the page to show
the next face (its picture loaded), never for a fixed time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = (1366, 768)
TABLET = (820, 1180)
_SHOWN = "Number(document.getElementById('stage').dataset.shown || 0)"
_FINISHED = "!document.getElementById('finished-page').hidden"


@contextmanager
def chromium(executable: str = CHROMIUM) -> Iterator[Browser]:
    """A headless Chromium for the duration of the block."""
    if not Path(executable).exists():
        raise RuntimeError(f"{executable} is missing: install Debian's chromium (make system-deps)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class WebRater:
    """One rater's browser (its own profile and storage) on the web folder, opened from disk."""

    def __init__(self, browser: Browser, folder: Path, viewport: tuple[int, int] = LAPTOP) -> None:
        self.folder = Path(folder).resolve()
        self.context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True
        )
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, query: str = "") -> Page:
        """Open index.html from disk (``query`` e.g. "?rater=3"); returns the page."""
        self.page.goto((self.folder / "index.html").as_uri() + query)
        return self.page

    def start(self) -> None:
        """Press Enter on the start page and wait for the first face."""
        shown = self.page.evaluate(_SHOWN)
        self.page.keyboard.press("Enter")
        self._wait_after(shown)

    def wait_for_face(self) -> None:
        self.page.wait_for_function(f"{_SHOWN} > 0 || {_FINISHED}")

    def face(self) -> str | None:
        """The opaque name of the face on screen (None on the finished page)."""
        if self.finished:
            return None
        source = self.page.get_attribute("#face", "src") or ""
        return Path(source).name.rsplit("-", 1)[0]

    @property
    def finished(self) -> bool:
        return bool(self.page.evaluate(_FINISHED))

    @property
    def progress(self) -> str:
        return self.page.text_content("#progress-label") or ""

    def press(self, key: str) -> None:
        """Press ``key`` (a vote or an undo) and wait until the next face can be judged, or the end."""
        shown = self.page.evaluate(_SHOWN)
        self.page.keyboard.press(key)
        self._wait_after(shown)

    def reload(self) -> None:
        self.page.reload()
        self.wait_for_face()

    def reopen(self, query: str = "") -> None:
        """Close the tab and open the page again in a new tab of the same browser profile."""
        self.page.close()
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.open(query)
        self.wait_for_face()

    def download_votes(self, folder: Path) -> Path:
        """Click the download button on the finished page; returns the saved votes file."""
        with self.page.expect_download() as download:
            self.page.click("#download-button")
        target = Path(folder) / download.value.suggested_filename
        download.value.save_as(target)
        return target

    def close(self) -> None:
        self.context.close()

    def _wait_after(self, shown: int) -> None:
        self.page.wait_for_function(f"{_SHOWN} > {shown} || {_FINISHED}")
