"""Every explorer's text is readable in light and in dark mode: WCAG AA contrast, measured.

In Chromium, for every element inside an explorer that shows text (its own text nodes, or the
value of a menu or number box), the test takes the computed text colour and the colour
actually behind it: the element's and its ancestors' backgrounds, walked up until an opaque
one, translucent layers composited on top of it, and every colour of a background gradient (the
hatching of masked cells) tried in turn, the worst one counted. The ratio is WCAG 2's
(relative luminance, (L1 + 0.05) / (L2 + 0.05)), and every element must reach 4.5:1, the AA
level for normal text: the explorers hold no large text, so the 3:1 allowance is never used.
Disabled buttons are left out (WCAG 1.4.3 exempts inactive controls), and so are the options
of a closed menu (the browser draws them).

The explorers are measured in every state they draw: each mask of the mask explorer, each
step of the online-softmax explorer, the coldest and hottest temperatures. Pages: the built
site's chapters 02, 06 and 07 (the theme switches to dark mode with the system's colour
scheme, as a reader's browser does) and a stand-alone page with one explorer of each kind (no
theme: the stylesheet's own fallbacks). The same pass fails on any console error or uncaught
exception of the explorers' script.

Set ``EXPLORER_SHOTS`` to a folder to keep a screenshot of each explorer per mode and width.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from course.explorer_online import online_explorer
from course.explorers import mask_explorer, standalone_page, temperature_explorer
from course.temperature_explorers import context_explorer, logits_inspector

from browsing import DESKTOP, PHONE, ROOT, Watched, serve

pytestmark = pytest.mark.slow

#: WCAG 2 AA for normal-size text (success criterion 1.4.3).
AA_TEXT = 4.5

EXPLORER_PAGES = ("book/02-temperature", "book/06-attention-masking", "book/07-softmax-at-scale")

CONTRAST_JS = r"""() => {
  function parse(c) {
    let m = c.match(/^rgba?\(([^)]+)\)$/);
    if (m) {
      const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = c.match(/^color\(srgb ([^)]+)\)$/);
    if (m) {
      const p = m[1].split(/[ \/]+/).filter(Boolean).map(Number);
      return [255 * p[0], 255 * p[1], 255 * p[2], p.length > 3 ? p[3] : 1];
    }
    throw new Error("unparsed colour " + c);
  }
  function over(top, under) {  // top composited over an opaque colour
    const a = top[3];
    return [0, 1, 2].map(k => top[k] * a + under[k] * (1 - a)).concat([1]);
  }
  function lum(c) {
    const l = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }
  function ratio(a, b) {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function gradientColours(image) {
    if (!image || image === "none") { return []; }
    return (image.match(/rgba?\([^)]+\)|color\(srgb [^)]+\)/g) || []).map(parse);
  }
  // Every background the text may sit on: a list of opaque colours.
  function backgrounds(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      const grad = gradientColours(s.backgroundImage);
      if (grad.length) { layers.push({gradient: grad}); }
      const c = parse(s.backgroundColor);
      if (c[3] > 0) { layers.push({colour: c}); }
      if ((grad.length && grad.every(g => g[3] === 1)) || c[3] === 1) { break; }
    }
    let bases = [[255, 255, 255, 1]];  // the canvas, if nothing is opaque
    for (let k = layers.length - 1; k >= 0; k--) {
      const layer = layers[k];
      if (layer.gradient) {
        bases = layer.gradient.flatMap(g => bases.map(b => over(g, b)));
      } else {
        bases = bases.map(b => over(layer.colour, b));
      }
    }
    return bases;
  }
  function shown(el) {
    const s = getComputedStyle(el);
    if (s.visibility !== "visible" || s.display === "none") { return false; }
    if (el.closest("[hidden]")) { return false; }
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }
  function ownText(el) {
    if (el.matches("select")) { return el.selectedOptions.length ? el.selectedOptions[0].text : ""; }
    if (el.matches("input[type=number], input[type=text]")) { return el.value; }
    return Array.from(el.childNodes).filter(n => n.nodeType === 3)
      .map(n => n.textContent).join("").trim();
  }
  const out = [];
  document.querySelectorAll("[data-explorer]").forEach(root => {
    const all = [root].concat(Array.from(root.querySelectorAll("*")));
    all.forEach(el => {
      if (el.matches("script, style, option") || el.closest("option")) { return; }
      if (el.matches(":disabled")) { return; }
      const text = ownText(el);
      if (!text || !shown(el)) { return; }
      const s = getComputedStyle(el);
      const fg = parse(s.color);
      let worst = null;
      backgrounds(el).forEach(bg => {
        const r = ratio(over(fg, bg), bg);
        if (worst === null || r < worst.ratio) { worst = {ratio: r, bg: bg}; }
      });
      out.push({explorer: root.dataset.explorer, id: root.id, tag: el.tagName.toLowerCase(),
                cls: el.className || "", text: text.slice(0, 40), ratio: worst.ratio,
                fg: s.color, bg: "rgb(" + worst.bg.slice(0, 3).map(Math.round).join(",") + ")",
                size: s.fontSize, weight: s.fontWeight});
    });
  });
  return out;
}"""


def measure_every_state(page) -> list[dict]:
    """The contrast of every explorer text element, in every state the explorers draw."""
    found = page.evaluate(CONTRAST_JS)
    for radio in page.locator("[data-explorer=mask] input[type=radio]").all():
        radio.check()
        found += page.evaluate(CONTRAST_JS)
    for root in page.locator("[data-explorer=online]").all():
        nxt = root.locator("button[id$=-next]")
        while not nxt.is_disabled():
            nxt.click()
            found += page.evaluate(CONTRAST_JS)
    for value in ("0", "max"):
        page.evaluate(
            """v => document.querySelectorAll("[data-explorer] input[type=range]")
          .forEach(s => { s.value = v === "max" ? s.max : v;
                          s.dispatchEvent(new Event("input", {bubbles: true})); })""",
            value,
        )
        found += page.evaluate(CONTRAST_JS)
    return found


def lowest(found: list[dict]) -> dict:
    return min(found, key=lambda f: f["ratio"])


def failures(found: list[dict]) -> list[str]:
    return sorted(
        {
            f"{f['explorer']} <{f['tag']} class={f['cls']!r}> {f['text']!r}: "
            f"{f['ratio']:.2f}:1 ({f['fg']} on {f['bg']})"
            for f in found
            if f["ratio"] < AA_TEXT
        }
    )


def shoot(page, name: str) -> None:
    """Screenshots of each explorer, when EXPLORER_SHOTS names a folder."""
    folder = os.environ.get("EXPLORER_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.evaluate(
        "document.querySelectorAll('[data-explorer] input[type=range]')"
        ".forEach(s => { s.value = s.getAttribute('value'); "
        "s.dispatchEvent(new Event('input', {bubbles: true})); })"
    )
    for k, root in enumerate(page.locator("[data-explorer]").all()):
        kind = root.get_attribute("data-explorer")
        root.screenshot(path=str(Path(folder) / f"explorers-{name}-{k}-{kind}.png"))


def check_page(browser, origin: str, path: str, mode: str, name: str) -> list[dict]:
    """Open ``origin/path`` with the system in ``mode``, measure, screenshot at both widths."""
    url = f"{origin}/{path}"
    watched = Watched(browser, origin)
    page = watched.page
    page.emulate_media(color_scheme=mode)
    page.set_viewport_size(DESKTOP)
    page.goto(url)
    page.wait_for_load_state("load")
    theme = page.evaluate("document.documentElement.dataset.theme || null")
    want = (None, mode) if name == "standalone" else (mode,)  # a stand-alone page has no theme
    assert theme in want, f"{url}: the theme is {theme!r} with the system in {mode} mode"
    assert page.locator("[data-explorer]").count(), f"{url} shows no explorer"
    served = page.evaluate("""() => [
      Array.from(document.querySelectorAll("style")).filter(
        s => s.textContent.includes(".sx-explorer{")).length,
      Array.from(document.querySelectorAll("script:not([type])")).filter(
        s => s.textContent.includes("window.sxExplorers = {")).length]""")
    assert served == [1, 1], f"{url}: the explorers' stylesheet and script, once each: {served}"
    ready = page.evaluate("""() => Array.from(document.querySelectorAll("[data-explorer]"))
      .filter(e => e.dataset.sxReady !== "true").map(e => e.id)""")
    assert not ready, f"{url}: explorers the script did not wire: {ready}"
    framed = page.evaluate("""() => Array.from(document.querySelectorAll("[data-explorer]"))
      .map(e => getComputedStyle(e.parentElement).backgroundColor)
      .filter(c => !/^rgba\\(.*, 0\\)$|^transparent$/.test(c))""")
    assert not framed, f"{url}: an explorer sits in a painted frame {framed}"  # theme's dark box
    found = measure_every_state(page)
    shoot(page, f"{name}-{mode}-desktop")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(200)
    found += page.evaluate(CONTRAST_JS)
    shoot(page, f"{name}-{mode}-phone")
    page.close()
    assert not watched.errors, watched.errors
    return found


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("page_name", EXPLORER_PAGES)
def test_site_explorers_meet_wcag_aa(browser, origin, mode, page_name):
    found = check_page(browser, origin, f"{page_name}.html", mode, page_name.split("/")[-1])
    kinds = {f["explorer"] for f in found}
    assert kinds, f"{page_name}: no explorer text measured"
    assert not failures(found), "\n".join(failures(found))
    worst = lowest(found)
    print(
        f"{page_name} {mode}: {len(found)} measurements, lowest {worst['ratio']:.2f}:1 "
        f"({worst['explorer']} {worst['cls']!r} {worst['text']!r})"
    )


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_standalone_explorers_meet_wcag_aa(browser, tmp_path, mode):
    z = np.array([3.0, 1.0, 0.5, 0.0, -1.0, -2.0, -2.5, -4.0])
    labels = list("abcdefgh")
    words = [f"w{k}" for k in range(40)]
    rng = np.random.default_rng(0)
    contexts = {"one": rng.standard_normal(40), "two": rng.standard_normal(40) * 3}
    (tmp_path / "index.html").write_text(
        standalone_page(
            temperature_explorer(z, labels, top=5),
            mask_explorer(),
            context_explorer(contexts, words, top=6),
            logits_inspector([2.0, 1.0, 0.1], list("xyz")),
            online_explorer(),
        ),
        encoding="utf-8",
    )
    # a browser asks any server for /favicon.ico; the site has one, so this folder does too
    (tmp_path / "favicon.ico").write_bytes((ROOT / "book" / "_extra" / "favicon.ico").read_bytes())
    server, url = serve(tmp_path)
    try:
        found = check_page(browser, url, "index.html", mode, "standalone")
    finally:
        server.shutdown()
        server.server_close()
    assert {f["explorer"] for f in found} == {
        "temperature",
        "mask",
        "context-temperature",
        "logits",
        "online",
    }
    assert not failures(found), "\n".join(failures(found))
    worst = lowest(found)
    print(
        f"stand-alone {mode}: {len(found)} measurements, lowest {worst['ratio']:.2f}:1 "
        f"({worst['explorer']} {worst['cls']!r} {worst['text']!r})"
    )


def test_the_measure_catches_unreadable_text(browser, tmp_path):
    """The measure can fail: grey on grey and text on a light hatching are caught."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html><body style="background:#14181e">'
        '<div data-explorer="x" id="a" style="color:#ced6dd">'
        '<p style="background:#ced6dd">light on light</p>'
        '<p style="color:#777">grey on dark</p>'
        '<p style="background:repeating-linear-gradient(45deg,#14181e 0 3px,#bbb 3px 7px)">'
        "hatched</p><p>fine</p></div></body></html>",
        encoding="utf-8",
    )
    server, url = serve(tmp_path)
    try:
        page = browser.new_page()
        page.goto(f"{url}/index.html")
        found = {f["text"]: f["ratio"] for f in page.evaluate(CONTRAST_JS)}
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    assert found["light on light"] == pytest.approx(1.0)
    assert found["grey on dark"] < AA_TEXT
    assert found["hatched"] < AA_TEXT  # the light stripe counts, not the dark one
    assert found["fine"] > 10
