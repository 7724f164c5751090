"""The book's figures as readers see them: legible on a phone, readable in dark mode.

Every figure of the book is a matplotlib SVG drawn with ``svg.fonttype = "path"``: each
piece of text is a group ``<g id="text_N">`` whose glyphs are drawn at
``scale(s -s)``, with s = font size / 100 in the SVG's own units (matplotlib's
text-to-path scale). :func:`svg_font_sizes` reads those sizes back from the saved image,
and the browser tests turn them into on-screen pixels: font size x displayed width /
viewBox width, at 390 px (a phone) and 1280 px (a desktop).

In dark mode (the reader's system asking for it, the theme's ``default_mode: auto``)
a figure must show the page's own background through its transparent one, with text
that contrasts with it, which :func:`ink_contrast` measures on a screenshot.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from browsing import DESKTOP, PHONE, SHOTS

MIN_TEXT_PX = 9.0  # the smallest on-screen text size we accept, at every width
MIN_CONTRAST = 4.5  # WCAG AA for text

_TEXT_GROUP = re.compile(r'<g id="text_\d+">(.*?)(?=<g id="text_\d+">|\Z)', re.DOTALL)
_GLYPH_SCALE = re.compile(r"scale\(([0-9.]+) -\1\)")
_VIEWBOX = re.compile(r'viewBox="([-0-9.]+) ([-0-9.]+) ([0-9.]+) ([0-9.]+)"')


def svg_font_sizes(svg: str) -> list[float]:
    """The font size of every text of a matplotlib SVG, in the SVG's viewBox units.

    Text drawn as paths carries its size as the glyph group's ``scale(s -s)``; the
    first such scale inside each ``text_N`` group is that text's base size (mathtext
    superscripts inside it are 70 % of it by TeX's rule and not counted separately).
    """
    sizes = []
    for group in _TEXT_GROUP.finditer(svg):
        scale = _GLYPH_SCALE.search(group.group(1))
        if scale:
            sizes.append(100 * float(scale.group(1)))
    return sizes


def svg_width(svg: str) -> float:
    """The width of the SVG's viewBox (the units the font sizes are in)."""
    return float(_VIEWBOX.search(svg).group(3))


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG 2 relative luminance of sRGB colours (last axis: R, G, B in 0..255)."""
    c = np.asarray(rgb, dtype=float) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """WCAG 2 contrast ratio between colours a and b (broadcasting)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


def ink_contrast(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The background colour of a screenshot (its commonest colour) and the contrast
    of its ink against it: the 99.5th percentile of every pixel's contrast with the
    background, i.e. the contrast of the strongest marks (text, axes), ignoring a few
    anti-aliased or stray pixels."""
    pixels = image[..., :3].reshape(-1, 3).astype(int)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    return background, float(np.percentile(contrast(pixels, background), 99.5))


# ----------------------------------------------------------------------- the measures


def _figure_svg(fontsize: float, width_in: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course import plotting

    plotting.style()
    fig, ax = plt.subplots(figsize=(width_in, 3))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x", fontsize=fontsize)
    ax.tick_params(labelsize=fontsize)
    ax.set_title(r"$10^{-3}$ title", fontsize=fontsize)
    from IPython.core.pylabtools import print_figure  # what the inline backend and glue use

    svg = print_figure(fig, "svg", bbox_inches=None, base64=False)
    plt.close(fig)
    return svg


def test_font_sizes_are_read_back_from_a_matplotlib_svg():
    svg = _figure_svg(fontsize=13.5, width_in=5.0)
    sizes = svg_font_sizes(svg)
    assert len(sizes) >= 5, sizes  # tick labels, the label and the title
    assert all(s == pytest.approx(13.5, abs=0.01) for s in sizes), sizes
    assert svg_width(svg) == pytest.approx(5.0 * 72, abs=0.5)
    assert min(svg_font_sizes(_figure_svg(fontsize=7, width_in=5.0))) == pytest.approx(7, abs=0.01)


def test_course_figures_have_a_transparent_background():
    svg = _figure_svg(fontsize=12, width_in=4.0)
    patch = re.search(r'<g id="patch_1">\s*<path[^>]*style="([^"]*)"', svg)
    assert patch is None or "fill: none" in patch.group(1) or "fill-opacity: 0" in patch.group(1), (
        patch and patch.group(1)
    )


def test_contrast_measure_tells_readable_from_faint_ink():
    white, black = np.array([255, 255, 255]), np.array([0, 0, 0])
    assert contrast(white, black) == pytest.approx(21, rel=1e-3)
    assert contrast(white, white) == pytest.approx(1)
    page = np.full((40, 40, 3), 18, dtype=np.uint8)  # a dark page
    page[10:12, 5:35] = 230  # light text
    background, ratio = ink_contrast(page)
    assert list(background) == [18, 18, 18] and ratio > 10
    page[10:12, 5:35] = 40  # dark text on a dark page
    assert ink_contrast(page)[1] < 2


# ------------------------------------------------------------------- the built site

_FIGURES_JS = """() => [...document.querySelectorAll('.bd-article figure img')].map(img => {
    img.scrollIntoView();
    const r = img.getBoundingClientRect();
    return {src: img.getAttribute('src'), width: r.width, height: r.height,
            id: img.closest('figure').id};
})"""


def _pages():
    from browsing import toc_pages

    return toc_pages()


@pytest.fixture(scope="module")
def reader(site, chromium):
    """Pages of the served site, one browser context per (width, colour scheme)."""
    from browsing import serve

    server, url = serve(site)
    contexts = {}

    def open_page(page: str, viewport: dict, scheme: str = "light"):
        key = (viewport["width"], scheme)
        if key not in contexts:
            contexts[key] = chromium.new_context(
                viewport=viewport, color_scheme=scheme, service_workers="block"
            )
        tab = contexts[key].new_page()
        tab.goto(f"{url}/{page}.html", wait_until="load")
        tab.wait_for_function("document.documentElement.dataset.theme !== undefined")
        return tab

    try:
        yield open_page
    finally:
        for context in contexts.values():
            context.close()
        server.shutdown()
        server.server_close()


def _text_sizes(site_dir: Path, page: str, shown: list[dict]) -> list[tuple[str, float]]:
    out = []
    for fig in shown:
        path = (site_dir / page).parent / fig["src"]
        svg = path.resolve().read_text(encoding="utf-8")
        sizes = svg_font_sizes(svg)
        assert sizes, f"{page} {fig['id']}: no text found in {fig['src']}"
        out.append((fig["id"], min(sizes) * fig["width"] / svg_width(svg)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_figure_text_is_legible_at_phone_and_desktop_width(site, reader, viewport):
    small, measured = [], 0
    for page in _pages():
        tab = reader(page, viewport)
        shown = tab.evaluate(_FIGURES_JS)
        tab.close()
        for fig_id, px in _text_sizes(site, page, shown):
            measured += 1
            if px < MIN_TEXT_PX:
                small.append(f"{page}#{fig_id}: {px:.1f} px")
    assert measured >= 15, f"only {measured} figures found"
    assert not small, f"text smaller than {MIN_TEXT_PX} px at {viewport['width']} px: {small}"


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_figures_show_the_page_background_and_contrasting_text(site, reader, scheme):
    from PIL import Image

    bad, measured = [], 0
    for page in _pages():
        tab = reader(page, PHONE, scheme)
        assert tab.evaluate("document.documentElement.dataset.theme") == scheme
        page_bg = tab.evaluate("""() => getComputedStyle(document.body).backgroundColor""")
        want = np.array([int(v) for v in re.findall(r"\d+", page_bg)[:3]])
        for index, fig in enumerate(tab.query_selector_all(".bd-article figure img")):
            fig.scroll_into_view_if_needed()
            shot = np.asarray(Image.open(io.BytesIO(fig.screenshot())).convert("RGB"))
            background, ratio = ink_contrast(shot)
            measured += 1
            if np.abs(background - want).max() > 8 or ratio < MIN_CONTRAST:
                bad.append(
                    f"{page} figure {index + 1}: background {list(background)} "
                    f"(page {list(want)}), ink contrast {ratio:.1f}"
                )
            if page.endswith(("01-definition", "06-attention-masking")) and index == 0:
                SHOTS.mkdir(parents=True, exist_ok=True)
                Image.fromarray(shot).save(SHOTS / f"pages-{page[5:7]}-fig-{scheme}.png")
        tab.close()
    assert measured >= 15, f"only {measured} figures found"
    assert not bad, bad
