"""What a reader sees on each built page, measured in headless Chromium (Playwright).

``measure(page)`` returns, for the page loaded in ``page`` at its current
viewport width:

``code_share``
    height of the visible code input (``.cell_input`` not inside a closed
    ``<details>``, where ``hide-input`` folds it: Chromium still reports a
    folded element's height) ÷ height of the article;
``figures``, ``captioned``, ``with_alt``
    output images, those inside a ``<figure>`` with a ``<figcaption>``, and
    those with an ``alt`` that is not a file name;
``min_font_pt``
    the smallest text in any SVG figure *as displayed*: each ``<text>`` font
    size in the SVG's user units × (displayed width in CSS px ÷ the SVG's
    viewBox width) × 0.75 pt per px; raster figures cannot be measured and are
    counted in ``raster``;
``wide_blocks``
    code blocks and tables that scroll horizontally (scrollWidth > clientWidth).

Run on a built book: ``python -m tests.pagemetrics _build/html [--width 1280]``.
"""

from __future__ import annotations

import argparse
import http.server
import threading
from functools import partial
from pathlib import Path

_JS = r"""
async () => {
  const article = document.querySelector("article") || document.body;
  const articleHeight = article.getBoundingClientRect().height;
  let code = 0;
  for (const el of article.querySelectorAll(".cell_input")) {
    if (el.closest("details:not([open])")) continue;  // folded by hide-input: no height on the page
    if (el.offsetParent !== null) code += el.getBoundingClientRect().height;
  }
  const imgs = Array.from(article.querySelectorAll(".cell_output img, figure img"));
  let captioned = 0, withAlt = 0, raster = 0, minFont = Infinity, fonts = [];
  for (const img of imgs) {
    const fig = img.closest("figure");
    if (fig && fig.querySelector("figcaption")) captioned += 1;
    if (img.alt && !/\.(png|svg|jpe?g)$/i.test(img.alt)) withAlt += 1;
    if (!/\.svg$/i.test(img.getAttribute("src") || "")) { raster += 1; continue; }
    const text = await (await fetch(img.src)).text();
    const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
    const vb = (svg.getAttribute("viewBox") || "").split(/\s+/).map(Number);
    const scale = img.getBoundingClientRect().width / (vb.length === 4 ? vb[2] : parseFloat(svg.getAttribute("width")));
    let smallest = Infinity;
    for (const m of text.matchAll(/font(?:-size)?:\s*(?:[a-z]+\s+)*([0-9.]+)px/g)) smallest = Math.min(smallest, parseFloat(m[1]));
    const pt = smallest * scale * 0.75;
    fonts.push(pt);
    minFont = Math.min(minFont, pt);
  }
  let wide = 0;
  for (const el of article.querySelectorAll("div.highlight pre, table")) {
    if (el.closest("details:not([open])")) continue;
    const box = el.closest(".table-wrapper, .pst-scrollable-table-container") || el;
    if (el.scrollWidth > box.clientWidth + 1) wide += 1;
  }
  return {code_share: code / articleHeight, figures: imgs.length, captioned, with_alt: withAlt, raster,
          min_font_pt: isFinite(minFont) ? minFont : null, wide_blocks: wide, height: articleHeight};
}
"""


def measure(page) -> dict:
    """The reader's measurements of the page loaded in ``page`` (see the module docstring)."""
    return page.evaluate(_JS)


def chapter_pages(html_dir: Path) -> list[str]:
    return sorted(p.relative_to(html_dir).as_posix() for p in (html_dir / "chapters").glob("0*.html"))


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("html_dir")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args(argv)
    html_dir = Path(args.html_dir).resolve()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(html_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"{'page':42s} {'code %':>7s} {'figures':>8s} {'captioned':>9s} {'alt':>4s} {'raster':>6s} "
          f"{'min font pt':>11s} {'wide':>5s}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        for name in chapter_pages(html_dir):
            page.goto(f"{url}/{name}", wait_until="networkidle")
            m = measure(page)
            font = f"{m['min_font_pt']:.1f}" if m["min_font_pt"] is not None else "—"
            print(f"{name:42s} {100 * m['code_share']:6.1f}% {m['figures']:8d} {m['captioned']:9d} "
                  f"{m['with_alt']:4d} {m['raster']:6d} {font:>11s} {m['wide_blocks']:5d}")
        browser.close()
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
