"""Every page of the built book (every file of _toc.yml) in headless Chromium, from file://, as a first visit:
no console error (JS exceptions, failed loads, console.error, console.warn), every chart drawn once (vega-embed puts an <svg> or
<canvas> into each div.banding-chart) and every saved widget view drawn once; and what a reader would have to
squint at or scroll for, measured in the page as laid out at the window's width (1280 px):
- no chart or table wider than the text column (its drawn <svg>/<canvas> against the article's content box),
- no table cell cut short (its text ends in "..." or "…", or CSS clips it with an ellipsis),
- no picture tile smaller than MIN_TILE_PX on a side: an <img> in the article, or one neuron's picture in a chart
  (plots.weight_grid draws each kernel cell as a rect mark, neurons a blank cell apart: a tile is a cluster of
  touching unstroked rects, measured in Vega's scenegraph and scaled as the chart is drawn on the page).
A full-page screenshot of each page and a report.txt (every problem above and page weight: the HTML plus every
file it loads, biggest first) for a person to look at.

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
MIN_TILE_PX = 20  # the smallest side of a picture tile a reader can read (issue 19: 3x3 kernels drawn at 12 px)


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

# Before any script of the page: keep each chart's Vega view (and title) on its div, so that what a canvas draws
# can be measured. The bundle sets window.vegaEmbed once; the setter wraps it.
KEEP_VIEWS_JS = """(() => {
  let embed;
  Object.defineProperty(window, "vegaEmbed", {configurable: true, get: () => embed, set: f => {
    embed = Object.assign((el, spec, opt) => f(el, spec, opt).then(r => {
      const div = typeof el === "string" ? document.querySelector(el) : el;
      const t = spec && spec.title;
      div.__bandingView = r.view;
      div.__bandingTitle = [].concat(typeof t === "object" && t !== null ? t.text : t || "").join(" ");
      return r;
    }), f);
  }});
})()"""

# The text column (the article's content box) and each chart's drawn width and each table's width, in CSS px.
CHART_WIDTH_JS = """(() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  const cs = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const charts = Array.from(document.querySelectorAll("div.banding-chart")).map(d => {
    const m = d.querySelector("svg.marks, canvas.marks");
    return {name: "chart #" + d.id, title: d.__bandingTitle || "", column: column,
            width: m ? m.getBoundingClientRect().width : 0};
  });
  const tables = Array.from(article.querySelectorAll("table")).map((t, i) => (
    {name: "table " + i, title: (t.rows[0] ? t.rows[0].textContent.trim() : ""), column: column,
     width: t.getBoundingClientRect().width}));
  return charts.concat(tables);
})()"""

# Table cells of the article whose text is cut short: ending in "..." or "…", or clipped by CSS with an ellipsis.
TRUNCATED_CELLS_JS = """Array.from(document.querySelectorAll("article td, article th")).flatMap(c => {
  const text = c.textContent.trim();
  const clipped = getComputedStyle(c).textOverflow === "ellipsis" && c.scrollWidth > c.clientWidth + 1;
  if (!(text.endsWith("...") || text.endsWith("\u2026") || clipped)) return [];
  const table = c.closest("table"), row = c.parentElement;
  return [{table: Array.from(document.querySelectorAll("article table")).indexOf(table),
           row: Array.from(table.rows).indexOf(row), col: Array.from(row.cells).indexOf(c),
           text: text.slice(-70), clipped: clipped}];
})"""

# Picture tiles smaller than the limit (passed as `limit`), in CSS px: each <img> of the article, and in each
# chart each cluster of >= 4 touching unstroked rect items of one mark (one neuron's kernel cells; a single rect,
# e.g. a bar or a stroked box, is no picture), from the chart's Vega scenegraph, times the chart's on-page scale.
SMALL_TILES_JS = """((limit) => {
  const out = [];
  for (const img of document.querySelectorAll("article img")) {
    const r = img.getBoundingClientRect();
    if (Math.min(r.width, r.height) < limit)
      out.push({name: "img " + (img.getAttribute("src") || "").slice(-60), tiles: 1, small: 1,
                width: r.width, height: r.height});
  }
  for (const d of document.querySelectorAll("div.banding-chart")) {
    const view = d.__bandingView, m = d.querySelector("svg.marks, canvas.marks");
    if (!view || !m) continue;
    const natural = m.tagName.toLowerCase() === "canvas" ? parseFloat(m.style.width) : m.width.baseVal.value;
    const scale = m.getBoundingClientRect().width / natural;
    let tiles = 0, small = 0, smallest = null;
    const visit = mark => {
      if (mark.marktype === "group") {
        for (const g of mark.items || []) for (const child of g.items || []) visit(child);
        return;
      }
      if (mark.marktype !== "rect") return;
      const boxes = (mark.items || []).filter(i => !(i.stroke && i.strokeWidth !== 0) && i.bounds && !i.bounds.empty())
        .map(i => i.bounds);
      const parent = boxes.map((_, i) => i);
      const find = i => parent[i] === i ? i : (parent[i] = find(parent[i]));
      const touch = (a, b) => a.x1 <= b.x2 + 0.5 && b.x1 <= a.x2 + 0.5 && a.y1 <= b.y2 + 0.5 && b.y1 <= a.y2 + 0.5;
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++)
          if (touch(boxes[i], boxes[j])) parent[find(i)] = find(j);
      const clusters = new Map();
      boxes.forEach((b, i) => {
        const k = find(i), c = clusters.get(k) || {n: 0, x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity};
        clusters.set(k, {n: c.n + 1, x1: Math.min(c.x1, b.x1), y1: Math.min(c.y1, b.y1),
                         x2: Math.max(c.x2, b.x2), y2: Math.max(c.y2, b.y2)});
      });
      for (const c of clusters.values()) {
        if (c.n < 4) continue;
        tiles++;
        const w = (c.x2 - c.x1) * scale, h = (c.y2 - c.y1) * scale;
        if (Math.min(w, h) < limit) small++;
        if (!smallest || Math.min(w, h) < Math.min(smallest.width, smallest.height)) smallest = {width: w, height: h};
      }
    };
    visit(view.scenegraph().root);
    if (small) out.push({name: "chart #" + d.id, title: d.__bandingTitle || "", tiles: tiles, small: small,
                         width: smallest.width, height: smallest.height});
  }
  return out;
})"""


def console_problems(events, session, root: Path) -> list[str]:
    """One line per console error of the tab `session`: uncaught exceptions, console.error and console.warn (Vega's
    warnings: a spec it had to guess about), failed loads.
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
        elif e.get("method") == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert", "warning"):
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
        browser.send("Page.addScriptToEvaluateOnNewDocument", session, source=KEEP_VIEWS_JS)
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
        # what a reader sees, at the window's width (before the screenshot resizes it)
        wide = [c for c in browser.evaluate(session, CHART_WIDTH_JS) if c["width"] > c["column"] + 0.5]
        truncated = browser.evaluate(session, TRUNCATED_CELLS_JS)
        small_tiles = browser.evaluate(session, f"({SMALL_TILES_JS})({MIN_TILE_PX})")
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
                "undrawn": [c for c in charts if c["drawn"] != 1], "weight": weight, "files": files,
                "reading": reading_problems(wide, truncated, small_tiles)}
    finally:
        browser.send("Target.closeTarget", targetId=target)
        browser.send("Target.disposeBrowserContext", browserContextId=context)
        browser.events = [e for e in browser.events if e.get("sessionId") != session]


def drawing_problem(c: dict) -> str:
    if c["drawn"]:
        return f"{c['name']} drawn {c['drawn']} times"
    return f"{c['name']} not drawn" + (f": {c['text']}" if c["text"] else " (empty)")


def reading_problems(wide, truncated, small_tiles) -> list[str]:
    """One line per chart wider than the text column, table cell cut short, or chart (or image) with tiles
    smaller than MIN_TILE_PX: what was measured and where."""
    def chart(c):
        return c["name"] + (f" ({c['title'][:60]})" if c.get("title") else "")
    lines = [f"{chart(c)} is {c['width']:.0f} px wide, the text column {c['column']:.0f} px" for c in wide]
    lines += [f"table {t['table']} row {t['row']} column {t['col']}: cell cut short"
              f"{' by CSS' if t['clipped'] else ''}: {t['text']!r}" for t in truncated]
    lines += [f"{chart(t)}: {t['small']} of {t['tiles']} tiles smaller than {MIN_TILE_PX} px "
              f"(smallest {t['width']:.1f} x {t['height']:.1f} px)" for t in small_tiles]
    return lines


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
                     f"and widgets not drawn once, {len(r['reading'])} reading problems, "
                     f"{r['weight'] / 1e6:.2f} MB in {len(r['files'])} files")
        lines += [f"  error: {m}" for m in r["errors"]]
        lines += [f"  {drawing_problem(c)}" for c in r["undrawn"]]
        lines += [f"  reading: {m}" for m in r["reading"]]
        lines += [f"  {size / 1e3:9.1f} kB  {name}" for size, name in r["files"][:8]]
    (folder / "report.txt").write_text("\n".join(lines) + "\n")
    if os.environ.get("BANDING_SCREENSHOTS"):
        shutil.copytree(folder, Path(os.environ["BANDING_SCREENSHOTS"]), dirs_exist_ok=True)


# --------------------------------------------------------------------------------------------------- test
MAX_PAGE_BYTES = 6e6  # a page with everything it loads (the Reader issue's limit)


def test_the_front_page_states_the_result_in_one_generated_sentence(book_html):
    """The intro carries the verdict's sentence (result.md, written by the scores step) and the scale it was built at."""
    text = (book_html / "intro.html").read_text(encoding="utf-8")
    assert "graded claims" in text and "reproduced in direction on every seed" in text and "Built at the" in text


@pytest.mark.parametrize("page", toc_pages())
def test_page_loads_without_console_errors_draws_every_chart_and_reads_at_column_width(page, browser, book_html, screenshots):
    folder, report = screenshots
    html = book_html / f"{page}.html"
    assert html.exists(), f"{page}: {html} was not built"
    shot = folder / f"{page}.png"
    r = report[page] = load_page(browser, html, shot)
    problems = [f"{page}: console error: {m}" for m in r["errors"]]
    problems += [f"{page}: {drawing_problem(c)}" for c in r["undrawn"]]
    problems += [f"{page}: {m}" for m in r["reading"]]
    if r["weight"] > MAX_PAGE_BYTES:
        problems.append(f"{page}: {r['weight'] / 1e6:.2f} MB, over the page weight limit {MAX_PAGE_BYTES / 1e6:.0f} MB")
    if problems:  # one line per page and message
        pytest.fail("\n".join(problems + [f"{page}: screenshot {shot}"]), pytrace=False)


def test_every_link_to_a_section_of_the_book_finds_it(book_html):
    """A link such as the verdict page's figure links (00_verdict -> 03_interventions.html#figure-6) lands on an
    element with that id in the page it names: a renamed heading or a lost target fails here, not in a reader's hands."""
    import re

    texts = {path.name: path.read_text(encoding="utf-8") for path in book_html.glob("*.html")}
    ids = {name: set(re.findall(r'\bid="([^"]+)"', text)) for name, text in texts.items()}
    checked, broken = 0, []
    for page in toc_pages():
        for target, fragment in re.findall(r'href="([\w.-]*\.html)?#([\w-]+)"', texts[f"{page}.html"]):
            checked += 1
            if fragment not in ids.get(target or f"{page}.html", set()):
                broken.append(f"{page}: {target or '(same page)'}#{fragment}")
    verdict = texts["00_verdict.html"]
    assert "03_interventions.html#figure-6" in verdict and checked > 0
    assert not broken, "\n".join(broken)


EXPLORER_STATE_JS = """(() => { const r = document.querySelector('.banding-explorer');
  return {run: r.querySelector('select').value, caption: r.querySelector('.caption').textContent,
          info: r.querySelector('.info').textContent, slider: r.querySelector('input[type=range]').value,
          grid: r.querySelector('canvas.grid').toDataURL()}; })()"""


def test_the_explorer_answers_a_real_click_and_another_run(browser, book_html):
    """On the explorer page, a mouse click (a real input event, not a script's) on a neuron of the grid selects it
    (the slider follows), and choosing another run redraws the grid, opening on its most typical neuron."""
    page = book_html / "09_explorer.html"
    assert page.exists(), f"{page} was not built"
    context = browser.send("Target.createBrowserContext")["browserContextId"]
    target = browser.send("Target.createTarget", url="about:blank", browserContextId=context)["targetId"]
    session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    try:
        for domain in ("Page", "Runtime"):
            browser.send(f"{domain}.enable", session)
        browser.send("Page.navigate", session, url=page.as_uri())
        deadline = time.monotonic() + 60
        while not browser.evaluate(session, "!!document.querySelector('.banding-explorer .info')?.textContent"):
            assert time.monotonic() < deadline, "the explorer drew nothing within 60 s"
            browser.listen(0.25)
        before = browser.evaluate(session, EXPLORER_STATE_JS)
        start = int(before["slider"])
        assert f"place {start + 1} of" in before["info"]
        tile = 1 if start != 1 else 0
        box = browser.evaluate(session, """(() => { const c = document.querySelector('.banding-explorer canvas.grid');
            c.scrollIntoView({block: 'center'}); const r = c.getBoundingClientRect();
            return [r.left, r.top, r.width / c.width]; })()""")
        # inside the first or second tile (tiles 24-28 px of the canvas, 3 px apart)
        x, y = box[0] + (tile * 27 + 6) * box[2], box[1] + 6 * box[2]
        for kind in ("mousePressed", "mouseReleased"):
            browser.send("Input.dispatchMouseEvent", session, type=kind, x=x, y=y, button="left", clickCount=1)
        browser.listen(0.3)
        clicked = browser.evaluate(session, EXPLORER_STATE_JS)
        assert clicked["slider"] == str(tile) and f"place {tile + 1} of" in clicked["info"]
        assert clicked["grid"] != before["grid"]  # the outline moved
        other = browser.evaluate(session, """(() => { const s = document.querySelector('.banding-explorer select');
            const o = [...s.options].find(o => o.value !== s.value); s.value = o.value;
            s.dispatchEvent(new Event('change')); return o.value; })()""")
        deadline = time.monotonic() + 10
        while browser.evaluate(session, EXPLORER_STATE_JS)["info"] == clicked["info"]:
            assert time.monotonic() < deadline, "choosing another run changed nothing"
            browser.listen(0.1)
        after = browser.evaluate(session, EXPLORER_STATE_JS)
        assert after["run"] == other and after["info"].startswith(other) and after["grid"] != clicked["grid"]
    finally:
        browser.send("Target.closeTarget", targetId=target)
        browser.send("Target.disposeBrowserContext", browserContextId=context)
