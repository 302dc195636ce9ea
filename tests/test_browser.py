"""Every page of the built book (every file of _toc.yml) in headless Chromium, from file://, as a first visit:
no console error (JS exceptions, failed loads, console.error), every chart drawn once (vega-embed puts an <svg> or
<canvas> into each div.banding-chart) and every saved widget view drawn once; a full-page screenshot of each page
and a report.txt (errors and page weight: the HTML plus every file it loads, biggest first) for a person to look at.

    pytest tests/test_browser.py                                   # builds the smoke book (built_book, conftest.py)
    BANDING_BOOK_HTML=_build/html pytest tests/test_browser.py     # an already built book, e.g. from make html
    BANDING_SCREENSHOTS=shots pytest tests/test_browser.py         # also copy the screenshots and report.txt there

Chromium is driven over its DevTools protocol on a pipe (--remote-debugging-pipe: JSON messages ended by a NUL
byte on file descriptors 3 and 4), so nothing beyond the standard library is needed."""
import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART_WAIT_S = 30  # the longest a page may take to draw its charts and widgets after its load event
SETTLE_S = 1.0  # listen this long after the charts are drawn, for late errors


def toc_pages(toc=ROOT / "book" / "_toc.yml") -> list[str]:
    """Every page of the table of contents, root first (file names without suffix)."""
    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for key in ("chapters", "sections", "parts"):
                for child in node.get(key, []):
                    yield from walk(child)
    data = yaml.safe_load(toc.read_text())
    return [data["root"], *walk(data)]


class Chromium:
    """A headless Chromium and a minimal DevTools-protocol client: send() a command and get its result; the
    events that arrive meanwhile are kept in .events (each with the sessionId of the tab it comes from)."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
             "--disable-extensions", "--mute-audio", "--hide-scrollbars", "--window-size=1280,900"]

    def __init__(self, exe: str, profile: Path):
        cmd_read, self._cmd = os.pipe()  # we write commands, Chromium reads them on fd 3
        self._out, out_write = os.pipe()  # Chromium writes replies and events on fd 4
        self.proc = subprocess.Popen(  # bash, not sh: dash redirects only the descriptors 0-9
            ["bash", "-c", f'exec "$@" 3<&{cmd_read} 4>&{out_write}', "bash", exe, *self.FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(cmd_read, out_write), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_read)
        os.close(out_write)
        self._buf, self._id, self.events = bytearray(), 0, []

    def close(self):
        for fd in (self._cmd, self._out):
            os.close(fd)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def _message(self, timeout: float):
        """The next message from Chromium, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (end := self._buf.find(b"\0")) < 0:
            if not select.select([self._out], [], [], max(0.0, deadline - time.monotonic()))[0]:
                return None
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited (status {self.proc.poll()})")
            self._buf += chunk
        msg = json.loads(self._buf[:end])
        del self._buf[:end + 1]
        return msg

    def send(self, method: str, session: str | None = None, timeout: float = 60, **params):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._cmd, data):]
        deadline = time.monotonic() + timeout
        while (reply := self._message(deadline - time.monotonic())) is not None:
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)
        raise TimeoutError(f"chromium did not answer {method} within {timeout} s")

    def listen(self, seconds: float):
        """Collect events for `seconds`."""
        deadline = time.monotonic() + seconds
        while (msg := self._message(deadline - time.monotonic())) is not None:
            self.events.append(msg)

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result["result"].get("value")


# What should be drawn once: each chart div (vega-embed puts its <svg class="marks"> or <canvas class="marks"> in
# it; a chart that fails shows its error as the div's text) and each saved ipywidgets view (the widget manager puts
# a div.widget-subarea next to the view's <script>).
DRAWN_JS = """[
  ...Array.from(document.querySelectorAll("div.banding-chart")).map(d => ({name: "chart #" + d.id,
    drawn: d.querySelectorAll("svg.marks, canvas.marks").length, text: d.textContent.trim().slice(0, 300)})),
  ...Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')).map(s => ({
    name: "widget " + JSON.parse(s.textContent).model_id,
    drawn: s.parentElement.querySelectorAll(":scope > .widget-subarea").length, text: ""}))]"""
PAGE_SIZE_JS = "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"


def console_problems(events, session, root: Path) -> list[str]:
    """One line per console error of the tab `session`: uncaught exceptions, console.error, failed loads.
    File URLs are shown relative to `root` (the book's HTML folder)."""
    lines = []
    for e in events:
        if e.get("sessionId") != session:
            continue
        p = e.get("params", {})
        if e.get("method") == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            text = (d.get("exception", {}).get("description") or d.get("text", "")).splitlines()[0]
            if not text.startswith("Uncaught"):
                text = f"{d.get('text', 'Uncaught')} {text}"
            lines.append(f"{text} ({short_url(d.get('url', ''), root)}:{d.get('lineNumber', 0) + 1})")
        elif e.get("method") == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            lines.append(f"console.{p['type']}: {args}")
        elif e.get("method") == "Log.entryAdded" and p["entry"]["level"] == "error":
            entry = p["entry"]
            lines.append(f"{entry['text']} ({short_url(entry.get('url', ''), root)})")
    return list(dict.fromkeys(lines))  # each message once, in order


def short_url(url: str, root: Path) -> str:
    """A file:// URL inside the book's HTML folder `root` as a relative path; any other URL unchanged."""
    if not url.startswith("file:"):
        return url
    path = Path(unquote(urlparse(url).path))
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def page_weight(events, session, page: Path, root: Path) -> tuple[int, list[tuple[int, str]]]:
    """Bytes of the page plus every file it requested from disk (scripts, stylesheets, fonts, images, ...),
    and those files, biggest first."""
    urls = {e["params"]["request"]["url"] for e in events
            if e.get("sessionId") == session and e.get("method") == "Network.requestWillBeSent"}
    files = {Path(unquote(urlparse(u).path)) for u in urls if u.startswith("file:")} | {page}
    sizes = sorted(((f.stat().st_size, short_url(f.as_uri(), root)) for f in files if f.is_file()), reverse=True)
    return sum(s for s, _ in sizes), sizes


def load_page(browser: Chromium, page: Path, screenshot: Path) -> dict:
    """Open `page` in a new tab of its own fresh profile (as a first visit: empty storage and cache), wait for its
    charts, save a full-page screenshot; return what went wrong and the page's weight."""
    context = browser.send("Target.createBrowserContext")["browserContextId"]
    target = browser.send("Target.createTarget", url="about:blank", browserContextId=context)["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session)
        start = len(browser.events)
        browser.send("Page.navigate", session, url=page.as_uri())
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session
                      for e in browser.events[start:]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{page.name}: no load event within 60 s")
            browser.listen(0.1)
        deadline = time.monotonic() + CHART_WAIT_S
        while not all(c["drawn"] for c in browser.evaluate(session, DRAWN_JS)) and time.monotonic() < deadline:
            browser.listen(0.25)
        browser.listen(SETTLE_S)
        charts = browser.evaluate(session, DRAWN_JS)
        # full page: a window as tall as the page (capped), then a plain screenshot of it
        width, height = browser.evaluate(session, PAGE_SIZE_JS)
        browser.send("Emulation.setDeviceMetricsOverride", session, width=width, height=min(height, 16000),
                     deviceScaleFactor=1, mobile=False)
        browser.listen(0.5)
        shot = browser.send("Page.captureScreenshot", session, format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        events = browser.events[start:]
        weight, files = page_weight(events, session, page, page.parent)
        return {"errors": console_problems(events, session, page.parent), "charts": charts,
                "undrawn": [c for c in charts if c["drawn"] != 1], "weight": weight, "files": files}
    finally:
        browser.send("Target.closeTarget", targetId=target)
        browser.send("Target.disposeBrowserContext", browserContextId=context)
        browser.events = [e for e in browser.events if e.get("sessionId") != session]


def drawing_problem(c: dict) -> str:
    if c["drawn"]:
        return f"{c['name']} drawn {c['drawn']} times"
    return f"{c['name']} not drawn" + (f": {c['text']}" if c["text"] else " (empty)")


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def book_html(request) -> Path:
    """The built HTML: $BANDING_BOOK_HTML if set (no build), else the smoke book built for this session."""
    if os.environ.get("BANDING_BOOK_HTML"):
        return Path(os.environ["BANDING_BOOK_HTML"]).resolve()
    return request.getfixturevalue("built_book") / "_build" / "html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):  # requested before book_html: no chromium, no book build
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    chromium = Chromium(exe, tmp_path_factory.mktemp("chromium-profile"))
    chromium.send("Browser.getVersion", timeout=120)  # started and answering
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    """The folder of the screenshots (one PNG a page) and report.txt; copied to $BANDING_SCREENSHOTS if set."""
    folder = tmp_path_factory.mktemp("screenshots")
    report = {}
    yield folder, report
    lines = []
    for page, r in report.items():
        lines.append(f"{page}: {len(r['errors'])} console errors, {len(r['undrawn'])} of {len(r['charts'])} charts "
                     f"and widgets not drawn once, {r['weight'] / 1e6:.2f} MB in {len(r['files'])} files")
        lines += [f"  error: {m}" for m in r["errors"]]
        lines += [f"  {drawing_problem(c)}" for c in r["undrawn"]]
        lines += [f"  {size / 1e3:9.1f} kB  {name}" for size, name in r["files"][:8]]
    (folder / "report.txt").write_text("\n".join(lines) + "\n")
    if os.environ.get("BANDING_SCREENSHOTS"):
        shutil.copytree(folder, Path(os.environ["BANDING_SCREENSHOTS"]), dirs_exist_ok=True)


# --------------------------------------------------------------------------------------------------- test
@pytest.mark.parametrize("page", toc_pages())
def test_page_loads_without_console_errors_and_draws_every_chart(page, browser, book_html, screenshots):
    folder, report = screenshots
    html = book_html / f"{page}.html"
    assert html.exists(), f"{page}: {html} was not built"
    shot = folder / f"{page}.png"
    r = report[page] = load_page(browser, html, shot)
    problems = [f"{page}: console error: {m}" for m in r["errors"]]
    problems += [f"{page}: {drawing_problem(c)}" for c in r["undrawn"]]
    if problems:  # one line per page and message
        pytest.fail("\n".join(problems + [f"{page}: screenshot {shot}"]), pytrace=False)
