"""The built HTML opened in headless Chromium (Debian's /usr/bin/chromium via Playwright).

Every page: no console errors or uncaught exceptions, no failed request, no
request leaving 127.0.0.1 (MathJax is served by the book), math typeset by
MathJax without errors, every image loaded, no error output or papermill
exception banner; and every internal link resolves.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip


def pages(html_dir: Path) -> list[str]:
    return sorted(p.relative_to(html_dir).as_posix() for p in html_dir.rglob("*.html") if "_static" not in p.parts)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make setup` (apt-get install -y chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_pages_render_cleanly(built_book, book_url, browser):
    html_dir = built_book.html_dir
    all_pages = pages(html_dir)
    assert "chapters/03_linear_regression.html" in all_pages
    problems, typeset = [], {}
    for page in all_pages:
        tab = browser.new_page()
        events: list[str] = []
        log = events.append
        tab.on("console", lambda m, log=log: m.type == "error" and log(f"console: {m.text}"))
        tab.on("pageerror", lambda e, log=log: log(f"exception: {e}"))
        tab.on("requestfailed", lambda r, log=log: log(f"failed request: {r.url}"))
        tab.on("response", lambda r, log=log: r.status >= 400 and log(f"HTTP {r.status}: {r.url}"))
        tab.on("request", lambda r, log=log: not r.url.startswith((book_url, "data:")) and log(f"external request: {r.url}"))
        tab.goto(f"{book_url}/{page}", wait_until="networkidle")
        state = tab.evaluate(
            """async () => {
                let math = null;
                if (window.MathJax && MathJax.startup) {
                    await MathJax.startup.promise;
                    math = {containers: document.querySelectorAll('mjx-container').length,
                            errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
                            raw: document.querySelectorAll('.math:not(:has(mjx-container))').length};
                }
                const imgs = Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
                const text = document.body.innerText;
                return {math, badImages: imgs,
                        errorOutputs: document.querySelectorAll('.output.error, .output.traceback, [class*="ansi-red-fg"]').length,
                        banner: text.includes('An Exception was encountered') || !!document.querySelector('#papermill-error-cell'),
                        hasMathMarkup: !!document.querySelector('.math')};
            }"""
        )
        if state["hasMathMarkup"]:
            if state["math"] is None:
                events.append("page has math but MathJax did not load")
            else:
                typeset[page] = state["math"]["containers"]
                if state["math"]["errors"] or state["math"]["raw"]:
                    events.append(f"MathJax: {state['math']}")
        events += [f"image not loaded: {src}" for src in state["badImages"]]
        if state["errorOutputs"] or state["banner"]:
            events.append(f"error output on page ({state['errorOutputs']} outputs, banner={state['banner']})")
        problems += [f"{page}: {e}" for e in events]
        tab.close()
    assert problems == []
    assert typeset.get("chapters/03_linear_regression.html", 0) > 20


def test_injected_parameters_cell_is_folded(built_book, book_url, browser):
    tab = browser.new_page()
    tab.goto(f"{book_url}/chapters/03_linear_regression.html", wait_until="networkidle")
    cell = tab.locator(".tag_injected-parameters")
    assert cell.count() == 1
    assert not cell.locator(".cell_input pre").first.is_visible()  # folded behind a toggle
    cell.locator("summary, button.toggle-button").first.click()
    assert cell.locator(".cell_input pre").first.is_visible()
    tab.close()


def test_chapter_figures_are_images(built_book, book_url, browser):
    tab = browser.new_page()
    tab.goto(f"{book_url}/chapters/03_linear_regression.html", wait_until="networkidle")
    sizes = tab.evaluate("() => Array.from(document.querySelectorAll('.cell_output img')).map(i => [i.naturalWidth, i.naturalHeight])")
    assert len(sizes) >= 3 and all(w > 300 and h > 200 for w, h in sizes)
    tab.close()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if key in a and a[key] and (tag, key) in {("a", "href"), ("img", "src"), ("script", "src"), ("link", "href")}:
                self.links.append(a[key])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_internal_links_resolve(built_book):
    html_dir = built_book.html_dir
    parsed = {p: _parse(html_dir / p) for p in pages(html_dir)}
    broken = []
    for page, info in parsed.items():
        for link in info.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (html_dir / page).parent / unquote(parts.path) if parts.path else html_dir / page
            target = target.resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page}: {link} (no file)")
                continue
            if parts.fragment and target.suffix == ".html":
                rel = target.relative_to(html_dir.resolve()).as_posix()
                ids = parsed[rel].ids if rel in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page}: {link} (no anchor)")
    assert broken == []



def _visible_chapter_links(tab, scope: str) -> list[str]:
    """Texts of the visible, numbered chapter links (``"3. Linear regression …"``) inside ``scope`` (a CSS selector)."""
    return tab.evaluate(
        """scope => Array.from(document.querySelectorAll(scope + ' a'))
               .filter(a => a.checkVisibility({visibilityProperty: true, opacityProperty: true})
                            && a.getBoundingClientRect().right > 0)
               .map(a => a.textContent.trim()).filter(t => /^[1-9][0-9]*\\. /.test(t))""",
        scope,
    )


@pytest.fixture
def phone(browser, book_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{book_url}/chapters/03_linear_regression.html", wait_until="networkidle")
    yield tab
    assert errors == []
    context.close()


def test_phone_menu_button_opens_the_chapter_list(phone):
    """At 390 px the ☰ button (the one a reader can see and tap) opens the navigation drawer with every chapter."""
    dialog = phone.locator("#pst-primary-sidebar-modal")
    assert not dialog.is_visible()
    button = phone.locator(".primary-toggle:visible")
    assert button.count() == 1, "exactly one visible ☰ button"
    button.tap()
    phone.wait_for_timeout(300)
    assert dialog.is_visible(), "☰ did nothing: the navigation drawer did not open"
    links = _visible_chapter_links(phone, "#pst-primary-sidebar-modal")
    assert len(links) >= 8, links
    phone.keyboard.press("Escape")
    phone.wait_for_timeout(300)
    assert not dialog.is_visible()


def test_phone_contents_button_opens_the_page_contents(phone):
    """At 390 px the page-contents button opens this page's section list."""
    dialog = phone.locator("#pst-secondary-sidebar-modal")
    assert not dialog.is_visible()
    button = phone.locator(".secondary-toggle:visible")
    assert button.count() == 1, "exactly one visible page-contents button"
    button.tap()
    phone.wait_for_timeout(300)
    assert dialog.is_visible(), "the page-contents button did nothing"
    sections = phone.evaluate(
        """() => Array.from(document.querySelectorAll('#pst-secondary-sidebar-modal a[href^="#"]'))
               .filter(a => a.offsetParent !== null).map(a => a.textContent.trim())"""
    )
    assert len(sections) >= 3, sections


def test_desktop_menu_button_toggles_the_chapter_list(browser, book_url):
    """At 1280 px the chapter list is shown; ☰ hides it and shows it again."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(f"{book_url}/chapters/03_linear_regression.html", wait_until="networkidle")
    assert len(_visible_chapter_links(tab, "#pst-primary-sidebar")) >= 8
    button = tab.locator(".primary-toggle:visible")
    assert button.count() == 1, "exactly one visible ☰ button"
    button.click()
    tab.wait_for_timeout(300)
    assert _visible_chapter_links(tab, "#pst-primary-sidebar") == [], "☰ did not hide the chapter list"
    assert not tab.locator("#pst-primary-sidebar-modal").is_visible()
    button.click()
    tab.wait_for_timeout(300)
    assert len(_visible_chapter_links(tab, "#pst-primary-sidebar")) >= 8, "☰ did not show the chapter list again"
    context.close()


def test_book_pdf_is_built_and_linked(built_book):
    """The whole book as one PDF, printed offline by headless Chromium, linked from the landing page."""
    from wdlib.book import PDF_NAME, pdf_page_count

    pdf = built_book.html_dir / PDF_NAME
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf_page_count(pdf) >= 60  # eight chapters, the API reference and the bibliography
    assert f'href="{PDF_NAME}"' in (built_book.html_dir / "index.html").read_text()


def test_tables_fit_the_column_at_1280_px(built_book, book_url, browser):
    """No table scrolls sideways at 1280 px; every table cell has padding; numbers are right-aligned."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems = []
    for page in pages(built_book.html_dir):
        if page.startswith(("_modules/", "genindex", "search", "py-modindex")):
            continue
        tab.goto(f"{book_url}/{page}", wait_until="load")
        found = tab.evaluate(
            """() => Array.from(document.querySelectorAll('.bd-article table')).filter(t => t.offsetParent !== null).map(t => {
                   let scrolls = false;
                   for (let box = t.parentElement; box; box = box.parentElement) {
                       if (box.scrollWidth > box.clientWidth + 1) scrolls = true;
                       if (box.classList.contains('bd-article')) break;
                   }
                   const cell = t.querySelector('td');
                   const pad = cell ? parseFloat(getComputedStyle(cell).paddingLeft) : 99;
                   const num = t.querySelector('td.wd-num');
                   return {text: t.innerText.slice(0, 40), scrolls, width: t.getBoundingClientRect().width,
                           pad, numAlign: num ? getComputedStyle(num).textAlign : 'right'};
               })"""
        )
        for t in found:
            if t["scrolls"]:
                problems.append(f"{page}: table {t['text']!r} scrolls sideways ({t['width']:.0f} px)")
            if t["pad"] < 4:
                problems.append(f"{page}: table {t['text']!r} has {t['pad']} px cell padding")
            if t["numAlign"] != "right":
                problems.append(f"{page}: table {t['text']!r} numbers are {t['numAlign']}-aligned")
    context.close()
    assert problems == []


def test_chapters_read_as_a_book(built_book, book_url, browser, report):
    """Every chapter at 1280 px: visible code ≤ 15 % of the page; every figure numbered, captioned, with alt text,
    drawn as SVG whose smallest text is ≥ 9 pt as displayed; no code block or table scrolling sideways."""
    from .pagemetrics import chapter_pages, measure

    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    for page in chapter_pages(built_book.html_dir):
        tab.goto(f"{book_url}/{page}", wait_until="networkidle")
        m = measure(tab)
        font = "—" if m["min_font_pt"] is None else f"{m['min_font_pt']:.1f} pt"
        report(f"{page}: code {100 * m['code_share']:.1f} % of the height, {m['figures']} figures "
               f"({m['captioned']} captioned, {m['with_alt']} with alt text), smallest figure text {font}", section="page measurements (1280 px)")
        if m["code_share"] > 0.15:
            problems.append(f"{page}: code is {100 * m['code_share']:.0f} % of the page (at most 15 %)")
        if not m["figures"] == m["captioned"] == m["with_alt"]:
            problems.append(f"{page}: {m['figures']} figures, {m['captioned']} captioned, {m['with_alt']} with alt")
        if m["raster"]:
            problems.append(f"{page}: {m['raster']} raster figures (call plotting.use_style() for SVG)")
        if m["min_font_pt"] is not None and round(m["min_font_pt"], 1) < 9:  # 9 pt up to float rounding
            problems.append(f"{page}: figure text down to {m['min_font_pt']:.1f} pt as displayed (at least 9)")
        if m["wide_blocks"]:
            problems.append(f"{page}: {m['wide_blocks']} code blocks or tables scroll sideways at 1280 px")
    tab.close()
    assert problems == []
