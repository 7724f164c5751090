"""The built site as readers see it, in a real browser (Debian's Chromium, driven by Playwright).

The site is built as `make book` builds it (the ``site`` fixture of conftest.py, built once per
session into a temporary folder) and served on 127.0.0.1. Every page of ``_toc.yml`` is loaded once, at desktop
width, and checked: no console error, page error or failed request; maths rendered by
MathJax without errors; every image loaded; no request leaving the local server; notebook
downloads that are student notebooks. Screenshots of every page at desktop and phone width
are saved under ``browsing.SHOTS`` (outside the checkout). The kernel-less explorers (course/explorers.py)
are exercised by moving their controls, and the search page must find results offline.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from course.explorers import mask_explorer, page_assets, temperature_bars, temperature_explorer

from browsing import (
    PHONE,
    SHOTS,
    TIMEOUT_MS,
    Watched,
    explorer_overflow,
    serve,
    toc_pages,
    wait_for_mathjax,
)
from conftest import ROOT

pytestmark = pytest.mark.slow

SOLUTION_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


PAGES = toc_pages()
MASK_PAGE = "book/06-attention-masking"
TEMPERATURE_PAGE = "book/02-temperature"


# ----------------------------------------------------------------------------- fixtures


BROKEN_IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) {
    img.loading = "eager";
    img.scrollIntoView({block: "center"});
    if (!img.complete) {
      await new Promise(done => { img.addEventListener("load", done, {once: true});
                                  img.addEventListener("error", done, {once: true});
                                  setTimeout(done, 10000); });
    }
  }
  window.scrollTo(0, 0);
  return {count: imgs.length,
          broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                      .map(i => i.currentSrc || i.src)};
}"""


def shot_name(page_name: str) -> str:
    return page_name.replace("/", "_")


@pytest.fixture(scope="module")
def visits(browser, origin):
    """Load each toc page once (lazily) and remember what happened."""
    cache: dict[str, dict] = {}

    def visit(page_name: str) -> dict:
        if page_name in cache:
            return cache[page_name]
        watched = Watched(browser, origin)
        page = watched.goto(f"{page_name}.html")
        wait_for_mathjax(page)
        images = page.evaluate(BROKEN_IMAGES_JS)
        watched.settle()
        result = {
            "maths_sources": page.locator(".math").count(),
            "mjx": page.locator("mjx-container").count(),
            "mjx_errors": page.locator("mjx-merror").all_text_contents(),
            "images": images,
            "downloads": page.eval_on_selector_all(
                'a.download, a[href$=".ipynb"]', "els => els.map(a => a.href)"
            ),
            "explorers": page.eval_on_selector_all(
                "[data-explorer]", "els => els.map(e => e.dataset.explorer)"
            ),
            "explorer_overflow_desktop": explorer_overflow(page),
        }
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{shot_name(page_name)}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(300)
        result["explorer_overflow_phone"] = explorer_overflow(page)
        result["page_width_phone"] = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=SHOTS / f"{shot_name(page_name)}-phone.png", full_page=True)
        watched.settle()
        result["errors"] = list(watched.errors)
        result["external"] = watched.external()
        result["requests"] = list(watched.requests)
        page.close()
        cache[page_name] = result
        return result

    return visit


# ----------------------------------------------------------------------------- every page


def test_toc_names_pages():
    assert PAGES and PAGES[0] == yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]


@pytest.mark.parametrize("page_name", PAGES)
def test_page_loads_without_errors(visits, page_name):
    result = visits(page_name)
    assert not result["errors"], result["errors"]


@pytest.mark.parametrize("page_name", PAGES)
def test_page_requests_nothing_outside_the_site(visits, page_name):
    result = visits(page_name)
    assert result["requests"], "the browser recorded no request at all"
    assert not result["external"], result["external"]


@pytest.mark.parametrize("page_name", PAGES)
def test_maths_is_rendered(visits, page_name):
    result = visits(page_name)
    if re.search(r"/\d\d-[^/]*$", page_name) or result["maths_sources"]:
        # every chapter has maths; the landing page and "Get the exercises" may have none
        assert result["maths_sources"] > 0, "no maths on the page"
        assert result["mjx"] >= result["maths_sources"], (result["mjx"], result["maths_sources"])
    assert not result["mjx_errors"], result["mjx_errors"]


@pytest.mark.parametrize("page_name", PAGES)
def test_every_image_loads(visits, page_name):
    result = visits(page_name)
    assert not result["images"]["broken"], result["images"]["broken"]


@pytest.mark.parametrize("page_name", PAGES)
def test_downloads_are_student_notebooks(visits, origin, page_name):
    from playwright.sync_api import Error

    result = visits(page_name)
    notebooks = [u for u in result["downloads"] if u.endswith(".ipynb")]
    if re.search(r"/\d\d-[^/]*$", page_name):
        assert notebooks, "a chapter page links its exercise notebook"
    import urllib.request

    for url in result["downloads"]:
        assert url.startswith(origin + "/"), url
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                data = response.read()
        except (OSError, Error) as exc:  # pragma: no cover - reported as a failure
            pytest.fail(f"cannot fetch {url}: {exc}")
        if url.endswith((".zip", ".whl")):  # the student kit: its notebooks and README
            import io
            import zipfile

            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = b"\n".join(
                    archive.read(n) for n in archive.namelist() if n.endswith((".ipynb", ".md"))
                )
        text = data.decode("utf-8")
        for marker in SOLUTION_MARKERS:
            assert marker not in text, (url, marker)
        if url.endswith(".ipynb"):
            nb = json.loads(text)
            code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
            assert "raise NotImplementedError()" in code, url


@pytest.mark.parametrize("page_name", PAGES)
def test_screenshots_at_desktop_and_phone_width(visits, page_name):
    result = visits(page_name)
    for width in ("desktop", "phone"):
        shot = SHOTS / f"{shot_name(page_name)}-{width}.png"
        assert shot.is_file() and shot.stat().st_size > 1000, shot
    assert not result["explorer_overflow_desktop"], result["explorer_overflow_desktop"]
    assert not result["explorer_overflow_phone"], result["explorer_overflow_phone"]
    # Usable at phone width: the page itself never scrolls sideways (code blocks and
    # wide equations scroll inside their own boxes).
    assert result["page_width_phone"] <= PHONE["width"], result["page_width_phone"]


# ----------------------------------------------------------------------------- search


def test_search_works_offline(browser, origin):
    watched = Watched(browser, origin)
    page = watched.goto("search.html?q=softmax")
    page.wait_for_selector("#search-results ul.search li", timeout=TIMEOUT_MS)
    hits = page.locator("#search-results ul.search li").count()
    watched.settle()
    page.close()
    assert hits >= 1
    assert not watched.external(), watched.external()
    assert not watched.errors, watched.errors


# ----------------------------------------------------------------------------- explorers

TEMPERATURE_STATE_JS = """root => ({
  values: Array.from(root.querySelectorAll(".sx-row")).map(r => Number(r.dataset.value)),
  labels: Array.from(root.querySelectorAll(".sx-row")).map(r => r.dataset.label),
  shown: Array.from(root.querySelectorAll(".sx-val")).map(v => v.textContent),
  width: root.querySelector(".sx-bar").style.width,
  entropy: Number(root.querySelector("output").dataset.entropy),
  T: Number(root.dataset.temperature),
  readout: root.querySelector("output").textContent,
  live: root.querySelector("output").getAttribute("aria-live"),
  valuetext: root.querySelector("input[type=range]").getAttribute("aria-valuetext"),
  data: JSON.parse(root.querySelector("script[type='application/json']").textContent),
})"""

SET_SLIDER_JS = """(root, value) => {
  const s = root.querySelector("input[type=range]");
  s.value = String(value);
  s.dispatchEvent(new Event("input", {bubbles: true}));
  s.dispatchEvent(new Event("change", {bubbles: true}));
}"""


def check_temperature_explorer(page, root) -> None:
    """Move one temperature explorer's slider and check what it shows."""
    first = root.evaluate(TEMPERATURE_STATE_JS)
    data = first["data"]
    assert first["live"] == "polite"
    expected = temperature_bars(data["logits"], data["labels"], first["T"], len(data["top"]))
    np.testing.assert_allclose(first["values"], expected["values"], rtol=1e-9, atol=1e-12)
    assert first["labels"] == expected["labels"]

    slider = root.locator("input[type=range]")
    slider.focus()
    page.keyboard.press("ArrowRight")  # the keyboard moves it one step hotter
    warmer = root.evaluate(TEMPERATURE_STATE_JS)
    assert warmer["T"] > first["T"]
    assert warmer["entropy"] > first["entropy"]
    assert warmer["values"] != first["values"] and warmer["shown"] != first["shown"]

    root.evaluate(SET_SLIDER_JS, 0)  # the coldest temperature
    cold = root.evaluate(TEMPERATURE_STATE_JS)
    assert math.isclose(cold["T"], data["temperatures"][0])
    assert cold["values"][0] > 0.9, cold["values"]
    assert cold["entropy"] < first["entropy"]
    assert cold["readout"] != first["readout"] and "entropy" in cold["readout"]
    assert cold["valuetext"] == f"T = {cold['T']:#.3g}"
    expected = temperature_bars(data["logits"], data["labels"], cold["T"], len(data["top"]))
    np.testing.assert_allclose(cold["values"], expected["values"], rtol=1e-9, atol=1e-12)
    assert math.isclose(cold["entropy"], expected["entropy"], rel_tol=1e-9, abs_tol=1e-12)

    root.evaluate(SET_SLIDER_JS, len(data["temperatures"]) - 1)  # the hottest
    hot = root.evaluate(TEMPERATURE_STATE_JS)
    assert hot["entropy"] > warmer["entropy"]
    assert abs(sum(hot["values"]) - 1) < 1e-9


MASK_STATE_JS = """root => ({
  mode: root.dataset.mode,
  n: JSON.parse(root.querySelector("script[type='application/json']").textContent).n,
  weights: Array.from(root.querySelectorAll("td.sx-cell")).map(c => Number(c.dataset.weight)),
  masked: Array.from(root.querySelectorAll("td.sx-cell")).map(c => c.dataset.masked === "true"),
  text: Array.from(root.querySelectorAll("td.sx-cell")).map(c => c.textContent),
  sums: Array.from(root.querySelectorAll("td.sx-sum")).map(c => c.textContent),
  readout: root.querySelector("output").textContent,
})"""


def check_mask_explorer(root) -> None:
    """Switch one mask explorer through its modes and check the heatmap."""
    states = {}
    for mode in ("causal", "padding", "both"):
        root.locator(f"input[type=radio][value={mode}]").check()
        state = root.evaluate(MASK_STATE_JS)
        assert state["mode"] == mode
        n = state["n"]
        w = np.array(state["weights"]).reshape(n, n)
        masked = np.array(state["masked"]).reshape(n, n)
        text = np.array(state["text"]).reshape(n, n)
        assert (w[masked] == 0).all() and (text[masked] == "0").all()
        for i in range(n):
            if masked[i].all():  # a fully masked row shows zeros, never NaN
                assert (w[i] == 0).all() and state["sums"][i] == "0", (mode, i)
            else:
                assert abs(w[i].sum() - 1) < 1e-9, (mode, i)
        assert "NaN" not in "".join(state["text"]) + "".join(state["sums"])
        states[mode] = state
    assert states["causal"]["weights"] != states["padding"]["weights"]
    assert states["padding"]["weights"] != states["both"]["weights"]
    assert states["causal"]["text"] != states["padding"]["text"]
    assert len({s["readout"] for s in states.values()}) == 3


def pages_with(site_dir: Path, kind: str) -> list[str]:
    marker = f'data-explorer="{kind}"'
    return [
        p
        for p in PAGES
        if (site_dir / f"{p}.html").is_file()
        and marker in (site_dir / f"{p}.html").read_text(encoding="utf-8")
    ]


def test_temperature_explorer_responds(browser, origin, site):
    found = pages_with(site, "temperature")
    assert TEMPERATURE_PAGE in found, "chapter 02 shows the temperature explorer"
    for page_name in found:
        watched = Watched(browser, origin)
        page = watched.goto(f"{page_name}.html")
        roots = page.locator("[data-explorer=temperature]")
        for k in range(roots.count()):
            check_temperature_explorer(page, roots.nth(k))
        page.close()
        assert not watched.errors, watched.errors


def test_mask_explorer_responds(browser, origin, site):
    found = pages_with(site, "mask")
    if MASK_PAGE in PAGES:
        assert MASK_PAGE in found, f"{MASK_PAGE} shows the mask explorer"
    if not found:
        pytest.skip(f"no page shows the mask explorer ({MASK_PAGE} is not in _toc.yml yet)")
    for page_name in found:
        watched = Watched(browser, origin)
        page = watched.goto(f"{page_name}.html")
        roots = page.locator("[data-explorer=mask]")
        for k in range(roots.count()):
            check_mask_explorer(roots.nth(k))
        page.close()
        assert not watched.errors, watched.errors


def test_explorers_side_by_side_offline(browser, tmp_path):
    """Several explorers on one stand-alone page: each works on its own, with nothing fetched."""
    z = np.array([3.0, 1.0, 0.5, 0.0, -1.0, -2.0, -2.5, -4.0])
    labels = list("abcdefgh")
    parts = [
        temperature_explorer(z, labels, top=5).data,
        temperature_explorer(z[::-1], labels, top=8).data,
        mask_explorer().data,
        mask_explorer(length=3, padding_side="right").data,
    ]
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>explorers</title>"
        '<link rel="icon" href="data:,">'
        + page_assets()
        + "</head><body>"
        + "\n".join(parts)
        + "</body></html>",
        encoding="utf-8",
    )
    server, url = serve(tmp_path)
    try:
        watched = Watched(browser, url)
        page = watched.goto("index.html")
        ids = page.eval_on_selector_all("[id]", "els => els.map(e => e.id)")
        assert len(ids) == len(set(ids)), "element ids are unique on the page"
        temps = page.locator("[data-explorer=temperature]")
        masks = page.locator("[data-explorer=mask]")
        assert temps.count() == 2 and masks.count() == 2
        before = temps.nth(1).evaluate(TEMPERATURE_STATE_JS)
        check_temperature_explorer(page, temps.nth(0))
        assert temps.nth(1).evaluate(TEMPERATURE_STATE_JS)["values"] == before["values"], (
            "moving one slider leaves the other explorer alone"
        )
        check_temperature_explorer(page, temps.nth(1))
        for k in range(masks.count()):
            check_mask_explorer(masks.nth(k))
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "explorers-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(200)
        assert not explorer_overflow(page)
        page.screenshot(path=SHOTS / "explorers-phone.png", full_page=True)
        page.close()
        assert not watched.errors, watched.errors
        assert not watched.external(), watched.external()
    finally:
        server.shutdown()
        server.server_close()


ONLINE_PAGE = "book/07-softmax-at-scale"

ONLINE_STATE_JS = """root => ({
  step: Number(root.dataset.step),
  size: root.dataset.blockSize,
  states: Array.from(root.querySelectorAll("li.sx-z")).map(c => c.dataset.state),
  rows: root.querySelectorAll("tbody tr").length,
  readout: root.querySelector("output").textContent,
  live: root.querySelector("output").getAttribute("aria-live"),
  next: root.querySelector("button[id$=-next]").disabled,
  prev: root.querySelector("button[id$=-prev]").disabled,
  data: JSON.parse(root.querySelector("script[type='application/json']").textContent),
})"""


def test_online_explorer_steps_to_the_three_pass_answer(browser, origin, site):
    """Chapter 07's explorer: tap through the blocks; the last step shows the three-pass answer."""
    from course.explorer_online import online_steps, step_text

    if ONLINE_PAGE not in PAGES:
        pytest.skip(f"{ONLINE_PAGE} is not in _toc.yml")
    assert ONLINE_PAGE in pages_with(site, "online")
    watched = Watched(browser, origin)
    page = watched.goto(f"{ONLINE_PAGE}.html")
    root = page.locator("[data-explorer=online]").first
    first = root.evaluate(ONLINE_STATE_JS)
    assert first["live"] == "polite" and first["step"] == 0 and first["prev"] and not first["next"]
    for size in first["data"]["runs"]:
        root.locator(f"input[type=radio][value='{size}']").check()
        run = online_steps(first["data"]["scores"], int(size))
        for k in range(len(run["steps"])):
            state = root.evaluate(ONLINE_STATE_JS)
            assert state["size"] == size and state["step"] == k and state["rows"] == k + 1
            assert state["readout"] == step_text(run, k)
            step = run["steps"][k]
            assert state["states"].count("current") == step["stop"] - step["start"]
            assert state["states"].count("done") == step["start"]
            if k < len(run["steps"]) - 1:
                root.locator("button[id$=-next]").click()
        assert state["next"] and f"{run['three_pass']:.3f}" in state["readout"]
    root.locator("button[id$=-prev]").click()
    assert root.evaluate(ONLINE_STATE_JS)["step"] == len(run["steps"]) - 2
    page.close()
    assert not watched.errors, watched.errors
