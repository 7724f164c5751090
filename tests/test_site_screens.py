"""The site on a phone (390 px, touch) and a desktop (1280 px): navigation, overflow, screens.

Uses the built book served by conftest's ``origin`` and the session's ``chromium``: one
context per width/mode, each page visited once per width. Screenshots for people to look at
go to $SOFTMAX_SCREENSHOTS (default: a folder in the system's temporary directory).
"""

from __future__ import annotations

import io
import statistics

import numpy as np
import pytest
from PIL import Image

from browsing import DESKTOP, PHONE, SHOTS, TIMEOUT_MS, toc_pages, wait_for_mathjax

pytestmark = pytest.mark.slow


# Every display equation, table and image wider than its container must sit inside an
# element that scrolls horizontally (overflow-x auto/scroll). Returns the offenders.
CLIPPED_JS = """() => {
  const bad = [];
  const scrolls = el => { for (let e = el.parentElement; e; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX;
      if (o === "auto" || o === "scroll") return e; } return null; };
  const self = el => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  for (const el of document.querySelectorAll(
        "article mjx-container[display], article table, article figure, article img")) {
    if (el.closest("dialog")) continue;
    const w = el.scrollWidth, parent = el.parentElement;
    if (!parent) continue;
    const box = parent.getBoundingClientRect().width;
    const tooWide = w > box + 1 || el.getBoundingClientRect().width > box + 1;
    if (self(el) && el.clientWidth <= box + 1) continue;
    if (tooWide && !scrolls(el)) bad.push(el.tagName + ":" + (el.textContent || el.src || "").slice(0, 40));
    // the container that scrolls must itself fit the article
  }
  const art = document.querySelector("article");
  if (art && document.documentElement.scrollWidth > window.innerWidth + 1)
    bad.push("page wider than viewport: " + document.documentElement.scrollWidth);
  return bad;
}"""


def new_context(chromium, phone: bool, dark: bool = False):
    """A context at phone (touch, mobile) or desktop size, in light or dark colour scheme."""
    opts = {
        "viewport": PHONE if phone else DESKTOP,
        "service_workers": "block",
        "color_scheme": "dark" if dark else "light",
    }
    if phone:
        opts.update(has_touch=True, is_mobile=True, device_scale_factor=2)
    context = chromium.new_context(**opts)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def press(page, selector: str, phone: bool) -> None:
    """Tap (phone) or click (desktop) the first VISIBLE element matching selector."""
    button = page.locator(f"{selector}:visible").first
    if phone:
        button.tap()
    else:
        button.click()


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_primary_sidebar_opens_and_leads_to_another_chapter(chromium, origin, phone):
    context = new_context(chromium, phone)
    page = context.new_page()
    page.goto(f"{origin}/book/01-definition.html")
    if phone:
        assert not page.locator("#pst-primary-sidebar-modal").evaluate("d => d.open")
        press(page, ".primary-toggle", phone)
        dialog = page.locator("#pst-primary-sidebar-modal")
        page.wait_for_function("() => document.querySelector('#pst-primary-sidebar-modal').open")
        link = dialog.locator("a.reference.internal[href*='02-temperature']").first
        link.tap()
    else:
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        press(page, ".primary-toggle", phone)
        page.wait_for_function(
            "() => document.querySelector('#pst-primary-sidebar').classList"
            ".contains('pst-sidebar-hidden')"
        )
        press(page, ".primary-toggle", phone)
        page.wait_for_function(
            "() => !document.querySelector('#pst-primary-sidebar').classList"
            ".contains('pst-sidebar-hidden')"
        )
        sidebar.locator("a.reference.internal[href*='02-temperature']").first.click()
    page.wait_for_url("**/02-temperature.html*")
    context.close()


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_contents_toggle_opens_the_page_contents(chromium, origin, phone):
    context = new_context(chromium, phone)
    page = context.new_page()
    page.goto(f"{origin}/book/01-definition.html")
    if phone:
        press(page, ".secondary-toggle", phone)
        page.wait_for_function("() => document.querySelector('#pst-secondary-sidebar-modal').open")
        dialog = page.locator("#pst-secondary-sidebar-modal")
        link = dialog.locator("a[href^='#']:visible").first
        target = link.get_attribute("href")
        link.tap()
        page.wait_for_url(f"**{target}")
        # the dialog closes, so the section the reader asked for is not hidden under it
        page.wait_for_function("() => !document.querySelector('#pst-secondary-sidebar-modal').open")
        assert page.locator(target).evaluate(
            "el => { const r = el.getBoundingClientRect();"
            " return r.top >= 0 && r.top < window.innerHeight; }"
        )
    else:
        # At 1280 px the page contents are shown beside the article.
        assert page.locator("#pst-secondary-sidebar a[href^='#']").first.is_visible()
    context.close()


def test_nothing_is_clipped_on_any_page_at_either_width(chromium, origin):
    failures = {}
    for phone in (True, False):
        context = new_context(chromium, phone)
        page = context.new_page()
        for name in toc_pages():
            page.goto(f"{origin}/{name}.html")
            wait_for_mathjax(page)
            page.wait_for_timeout(200)
            bad = page.evaluate(CLIPPED_JS)
            if bad:
                failures[f"{name}@{'390' if phone else '1280'}"] = bad
        context.close()
    assert not failures, failures


# The boxes that scroll sideways on this page because their content is wider than they are.
HIDDEN_JS = "el => el.scrollWidth - el.clientWidth"
OVERFLOWING_JS = """() => [...document.querySelectorAll(
    'article mjx-container[display="true"], article .pst-scrollable-table-container')]
  .filter(el => el.scrollWidth > el.clientWidth + 4 && !el.closest('dialog')).length"""


def edge_shades(page, box) -> tuple[float, float]:
    """How much the left and the right edge of ``box`` differ from the page's background,
    in grey levels: (left - background, right - background), each the median of a strip
    3 px wide at that edge of the box's screenshot over the middle half of its rows (so
    the glyphs that reach an edge do not count)."""
    shot = np.asarray(Image.open(io.BytesIO(box.screenshot())).convert("L"), dtype=float)
    rows = shot[shot.shape[0] // 4 : 3 * shot.shape[0] // 4]
    background = page.evaluate(
        "() => { const c = getComputedStyle(document.body).backgroundColor.match(/\\d+/g);"
        " return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; }"
    )
    left = float(np.median(rows[:, 1:4]))
    right = float(np.median(rows[:, -4:-1]))
    return left - background, right - background


#: A box that is wider than a phone on each kind: a display equation, a table.
SCROLLING_BOXES = {
    "equation": ("book/01-definition", "#equation-eq-softmax mjx-container[display='true']"),
    "table": ("book/02-temperature", ".pst-scrollable-table-container"),
}


@pytest.mark.parametrize("kind", sorted(SCROLLING_BOXES))
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_a_box_that_scrolls_shows_a_shadow_where_more_of_it_lies(chromium, origin, dark, kind):
    """At 390 px, chapter 01's equation (1) and chapter 02's tables are wider than the phone:
    a shadow marks the edge with more beyond it (darker than the page in light mode, lighter
    in dark mode), and moves to the other edge once the reader has scrolled to the end."""
    context = new_context(chromium, phone=True, dark=dark)
    page = context.new_page()
    path, selector = SCROLLING_BOXES[kind]
    page.goto(f"{origin}/{path}.html")
    wait_for_mathjax(page)
    page.wait_for_timeout(300)
    assert page.evaluate(OVERFLOWING_JS), f"no {kind} overflows at 390 px any more"
    # the one with the most beyond its edge (the cue grows with what is hidden: under a
    # few pixels, the end of the content already covers the shadow)
    hidden = [(b.evaluate(HIDDEN_JS), i) for i, b in enumerate(page.locator(selector).all())]
    most, index = max(hidden)
    assert most > 40, f"no {kind} on {path} is much wider than a phone any more"
    box = page.locator(selector).nth(index)
    box.scroll_into_view_if_needed()
    sign = 1 if dark else -1  # a shadow is lighter than the dark page, darker than the light one
    # the edges are compared with each other, so a table's own row colours cancel out
    left, right = edge_shades(page, box)
    assert sign * (right - left) > 15, ("right edge not shaded", left, right)
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    page.wait_for_timeout(200)
    left, right = edge_shades(page, box)
    assert sign * (left - right) > 15, ("left edge not shaded at the end", left, right)
    context.close()


ICONS_JS = """() => [...document.querySelectorAll('button i[class*="fa-"], a i[class*="fa-"]')]
  .filter(i => i.getClientRects().length)
  .map(i => ({cls: i.className, content: getComputedStyle(i, '::before').content,
              font: getComputedStyle(i).fontFamily, width: i.getBoundingClientRect().width}))"""


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_header_icons_are_drawn_without_the_icon_script(chromium, origin, phone, dark):
    """The theme's 1.5 MB Font Awesome script is emptied (course/sphinx_ext.py): every
    visible icon is then a web-font glyph, with ink where the menu button's icon is."""
    context = new_context(chromium, phone, dark)
    page = context.new_page()
    page.goto(f"{origin}/book/01-definition.html")
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    script = page.request.get(f"{origin}/_static/scripts/fontawesome.js")
    assert script.status == 200 and len(script.body()) < 1000
    icons = page.evaluate(ICONS_JS)
    assert len(icons) >= 3, icons
    for icon in icons:
        assert icon["content"] not in ("none", "normal", '""'), icon
        assert "Font Awesome" in icon["font"] and icon["width"] > 4, icon
    assert page.evaluate("""() => document.fonts.check('900 16px "Font Awesome 6 Free"')""")
    toggle = page.locator(".primary-toggle:visible").first
    shot = np.asarray(Image.open(io.BytesIO(toggle.screenshot())).convert("L"), dtype=float)
    assert shot.max() - shot.min() > 100, "the menu button shows no icon"
    context.close()


SEARCH_BOXES = (
    ".search-button-field:visible, .search-button:visible, "
    "form.bd-search:not(#pst-search-dialog *):visible"
)


@pytest.mark.parametrize("phone", [True, False], ids=["phone", "desktop"])
def test_one_search_box_that_opens_the_search(chromium, origin, phone):
    """One visible way to search on the whole page (header, sidebars, navigation dialog),
    and pressing it opens the search field."""
    context = new_context(chromium, phone)
    page = context.new_page()
    page.goto(f"{origin}/book/01-definition.html")
    page.wait_for_load_state("load")
    assert page.locator(SEARCH_BOXES).count() == 1
    if phone:  # the navigation dialog adds none
        press(page, ".primary-toggle", phone)
        page.wait_for_function("() => document.querySelector('#pst-primary-sidebar-modal').open")
        assert page.locator(f"#pst-primary-sidebar-modal :is({SEARCH_BOXES})").count() == 0
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)
    press(page, ":is(.search-button-field, .search-button)", phone)
    page.wait_for_function("() => document.querySelector('#pst-search-dialog').open")
    assert page.locator("#pst-search-dialog input[name=q]").is_visible()
    context.close()


def test_a_favicon_and_no_failed_request(chromium, origin):
    context = new_context(chromium, phone=False)
    page = context.new_page()
    statuses = {}
    page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
    page.goto(f"{origin}/book/01-definition.html")
    page.wait_for_load_state("networkidle")
    icon = page.locator("link[rel~='icon']").first.get_attribute("href")
    assert icon and icon.endswith(".svg")
    assert not [u for u, s in statuses.items() if s >= 400], statuses
    response = page.request.get(f"{origin}/favicon.ico")
    assert response.status < 400
    context.close()


def first_view_bytes(chromium, origin) -> list[int]:
    """Bytes transferred by a first, uncached view of each chapter (one fresh context each)."""
    sizes = []
    for name in toc_pages():
        context = new_context(chromium, phone=False)
        page = context.new_page()
        total = []
        page.on(
            "requestfinished",
            lambda r, total=total: total.append(
                r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]
            ),
        )
        page.goto(f"{origin}/{name}.html")
        wait_for_mathjax(page)
        page.wait_for_load_state("networkidle")
        sizes.append(sum(total))
        context.close()
    return sizes


def test_first_page_view_weight_is_measured(chromium, origin):
    sizes = first_view_bytes(chromium, origin)
    assert len(sizes) == len(toc_pages()) and min(sizes) > 10_000
    print(f"first view bytes: median {statistics.median(sizes):.0f}, max {max(sizes)}")


SCREENS = [("book/01-definition", "ch01"), ("book/06-attention-masking", "ch06")]


def test_screenshots_phone_and_desktop_light_and_dark(chromium, origin):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for dark in (False, True):
        for phone in (True, False):
            context = new_context(chromium, phone, dark)
            page = context.new_page()
            mode = "dark" if dark else "light"
            size = "phone" if phone else "desktop"
            for path, short in SCREENS:
                page.goto(f"{origin}/{path}.html")
                wait_for_mathjax(page)
                page.wait_for_timeout(300)
                assert page.evaluate("document.documentElement.dataset.theme") == mode
                page.screenshot(path=SHOTS / f"{short}-{size}-{mode}.png")
            if not dark:
                page.goto(f"{origin}/book/01-definition.html")
                if phone:  # on a desktop the navigation is open from the start
                    press(page, ".primary-toggle", phone)
                    page.wait_for_timeout(500)
                else:
                    assert page.locator("#pst-primary-sidebar").is_visible()
                page.screenshot(path=SHOTS / f"nav-primary-{size}.png")
                if phone:
                    page.keyboard.press("Escape")
                    page.wait_for_timeout(300)
                    press(page, ".secondary-toggle", phone)
                    page.wait_for_timeout(500)
                    page.screenshot(path=SHOTS / f"nav-contents-{size}.png")
            context.close()


def test_search_snippets_show_no_raw_tex(chromium, origin):
    context = new_context(chromium, phone=False)
    page = context.new_page()
    page.goto(f"{origin}/search.html?q=softmax")
    page.wait_for_selector("#search-results li p.context", timeout=30_000)
    snippets = page.locator("#search-results li p.context").all_text_contents()
    assert snippets
    raw = [s for s in snippets if "\\(" in s or "\\frac" in s or "\\sum" in s or "\\exp" in s]
    assert not raw, raw
    context.close()
