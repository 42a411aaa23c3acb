"""Open an HTML report in headless Chromium and say what a reader would see.

Drives Debian's ``chromium`` over the DevTools protocol (websocket-client, which dashscope already
installs): loads the page, collects console errors and uncaught exceptions, checks every image
decoded, counts the report's sections, and can save a full-page screenshot. Chromium is started
with a fresh profile, no sandbox (containers), no GPU and none of its background network traffic,
so it works offline and leaves nothing behind.

    python -m ct_spatial_bench.reporting.browser data/08_reporting/report.html shot.png
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import ConfigurationError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--remote-debugging-port=0",
    "--window-size=1400,900",  # the width the report must fit (issue 25)
)
# Every <details> is opened first, so the tables inside them are measured too.
_PAGE_FACTS = """(document.querySelectorAll('details').forEach(d => { d.open = true; }),
JSON.stringify({
  title: document.title,
  images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
                                                 width: i.naturalWidth})),
  headings: Array.from(document.querySelectorAll('h2')).map(h => h.textContent),
  tables: document.querySelectorAll('table').length,
  details: document.querySelectorAll('details').length,
  page_width: document.documentElement.clientWidth,
  overflow_px: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  wide_tables: Array.from(document.querySelectorAll('table'))
    .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .map(t => (t.previousElementSibling || {}).textContent || 'table').slice(0, 10),
}))"""


@dataclass
class RenderResult:
    title: str
    images: list[dict[str, Any]]
    headings: list[str]
    tables: int
    details: int
    page_width: int = 0
    overflow_px: int = 0  # how far the page runs off the window to the right
    wide_tables: list[str] = field(default_factory=list)  # what precedes each table too wide
    console_errors: list[str] = field(default_factory=list)
    screenshot: str | None = None

    @property
    def broken_images(self) -> list[str]:
        return [i["alt"] for i in self.images if not i["complete"] or i["width"] == 0]


def find_chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), *BROWSERS):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class _DevTools:
    """A minimal DevTools client: send a command, wait for its reply, keep the events seen."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client

        self._ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method} failed: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout} s")
            self.events.append(json.loads(self._ws.recv()))

    def close(self) -> None:
        self._ws.close()


def _console_errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append(details.get("exception", {}).get("description") or details.get("text"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description"))) for a in
                                   params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", ""))
    return errors


def _debugger_port(profile: Path, process: subprocess.Popen, timeout: float = 30.0) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with code {process.returncode} before starting")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


def render_report(
    html_path: str | os.PathLike, screenshot: str | os.PathLike | None = None,
    browser: str | None = None,
) -> RenderResult:
    """Load ``html_path`` in headless Chromium and return what rendered (see ``RenderResult``)."""
    browser = browser or find_chromium()
    if browser is None:
        raise ChromiumNotFound(
            f"no Chromium found (looked for {', '.join(BROWSERS)} on PATH, and $CHROMIUM); "
            "install it (`sudo apt-get install chromium` on Debian/Ubuntu) or set CHROMIUM to "
            "its executable.")
    if not Path(html_path).is_file():
        raise ConfigurationError(f"{html_path} does not exist; `kedro run` writes the report "
                                 "to data/08_reporting/report.html")
    url = Path(html_path).resolve().as_uri()
    # Chromium's helper processes may still write the profile as it exits: cleanup errors are moot
    with tempfile.TemporaryDirectory(prefix="report-chromium-",
                                     ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen([browser, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _debugger_port(Path(profile), process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            tools = _DevTools(pages[0]["webSocketDebuggerUrl"])
            try:
                for domain in ("Runtime", "Log", "Page"):
                    tools.call(f"{domain}.enable")
                tools.call("Page.navigate", url=url)
                tools.wait_for("Page.loadEventFired")
                facts = json.loads(tools.call("Runtime.evaluate", expression=_PAGE_FACTS,
                                              returnByValue=True)["result"]["value"])
                result = RenderResult(**facts, console_errors=_console_errors(tools.events))
                if screenshot is not None:
                    shot = tools.call("Page.captureScreenshot", format="png",
                                      captureBeyondViewport=True)
                    Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
                    result.screenshot = str(screenshot)
            finally:
                tools.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return result


class ChromiumNotFound(ConfigurationError, FileNotFoundError):
    """No Chromium to open the report with (a fix the user makes)."""


def main(argv: list[str]) -> int:
    """``python -m ct_spatial_bench.reporting.browser REPORT [SCREENSHOT]``: 0 when the page
    rendered clean, 1 with console errors or broken images, 2 when it could not be opened."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[-1].strip())  # noqa: T201
        return 2
    try:
        outcome = render_report(argv[0], argv[1] if len(argv) > 1 else None)
    except ConfigurationError as error:
        print(f"Stopped: {error}", file=sys.stderr)  # noqa: T201
        return 2
    print(json.dumps(outcome.__dict__, indent=2))  # noqa: T201
    return 1 if outcome.console_errors or outcome.broken_images else 0


if __name__ == "__main__":  # pragma: no cover - a convenience for people
    sys.exit(main(sys.argv[1:]))
