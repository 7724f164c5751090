"""Chapter 02's extra explorers in a real browser: the numbers the scripts draw are Python's.

A stand-alone page holds a context explorer over the real word model and a logits
inspector; Chromium (conftest.py's ``browser``) moves their controls.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from course import wordlm
from course.explorers import page_assets
from course.temperature_explorers import context_explorer, inspect_logits, logits_inspector

from browsing import PHONE, SHOTS, Watched, explorer_overflow, serve

pytestmark = pytest.mark.slow

STATE_JS = """root => ({
  rows: Array.from(root.querySelectorAll(".sx-row")).filter(r => !r.hidden)
    .map(r => [r.dataset.label, Number(r.dataset.value), r.querySelector(".sx-val").textContent]),
  entropy: Number(root.querySelector("output").dataset.entropy),
  nucleus: Number(root.querySelector("output").dataset.nucleus),
  readout: root.querySelector("output").textContent,
  T: Number(root.dataset.temperature),
  context: root.dataset.context,
  data: JSON.parse(root.querySelector("script[type='application/json']").textContent),
})"""

INSPECT_JS = """root => ({
  p: Array.from(root.querySelectorAll("tr.sx-opt")).map(r => Number(r.dataset.p)),
  odds: Array.from(root.querySelectorAll("tr.sx-opt")).map(r => Number(r.dataset.odds)),
  shown: Array.from(root.querySelectorAll("tr.sx-opt .sx-p")).map(c => c.textContent),
  entropy: Number(root.querySelector("output").dataset.entropy),
  readout: root.querySelector("output").textContent,
  T: Number(root.dataset.temperature),
})"""

SET_SLIDER_JS = """(root, value) => {
  const s = root.querySelector("input[type=range]");
  s.value = String(value);
  s.dispatchEvent(new Event("input", {bubbles: true}));
}"""


def test_context_explorer_and_logits_inspector(browser, tmp_path):
    lm = wordlm.load()
    contexts = {c: lm.logits(c) for c in ("once upon a", "the united", "of the")}
    parts = [
        context_explorer(contexts, lm.words).data,
        logits_inspector([2.0, 1.0, 0.1, -1.0], ["cat", "dog", "fish", "bird"]).data,
    ]
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>explorers</title><link rel="icon" href="data:,">'
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

        root = page.locator("[data-explorer=context-temperature]")
        first = root.evaluate(STATE_JS)
        views, temps = first["data"]["views"], first["data"]["temperatures"]
        k = first["data"]["start"]
        assert first["context"] == "once upon a" and first["T"] == 1.0
        view = views["once upon a"]
        assert [r[0] for r in first["rows"]] == view["labels"]
        assert [r[1] for r in first["rows"]] == view["values"][k]
        assert (
            first["rows"][0][0] == "time" and first["rows"][0][2] == f"{view['values'][k][0]:.3f}"
        )
        assert first["nucleus"] == view["nucleus"][k]

        page.select_option(f"#{root.get_attribute('id')}-c", "1")  # "the united"
        united = root.evaluate(STATE_JS)
        assert united["context"] == "the united"
        assert [r[0] for r in united["rows"]][:2] == ["states", "nations"]
        assert [r[1] for r in united["rows"]] == views["the united"]["values"][k]
        assert united["readout"] != first["readout"] and "the united" in united["readout"]

        root.evaluate(SET_SLIDER_JS, len(temps) - 1)  # the hottest
        hot = root.evaluate(STATE_JS)
        assert hot["T"] == temps[-1]
        assert hot["entropy"] == views["the united"]["entropy"][-1] > united["entropy"]
        assert hot["nucleus"] == views["the united"]["nucleus"][-1] > united["nucleus"]
        assert f"{hot['nucleus']:,}" in hot["readout"]

        inspector = page.locator("[data-explorer=logits]")
        state = inspector.evaluate(INSPECT_JS)
        want = inspect_logits([2.0, 1.0, 0.1, -1.0], 1.0)
        np.testing.assert_allclose(state["p"], want["probabilities"], rtol=1e-12)
        box = inspector.locator("input[type=number]").nth(3)
        box.fill("3")  # the reader makes "bird" the favourite
        edited = inspector.evaluate(INSPECT_JS)
        want = inspect_logits([2.0, 1.0, 0.1, 3.0], 1.0)
        np.testing.assert_allclose(edited["p"], want["probabilities"], rtol=1e-12)
        np.testing.assert_allclose(edited["odds"], want["odds"], rtol=1e-12)
        assert math.isclose(edited["entropy"], want["entropy"], rel_tol=1e-12)
        assert "bird" in edited["readout"]
        inspector.evaluate(SET_SLIDER_JS, 0)  # T = 0.05: nearly one-hot
        cold = inspector.evaluate(INSPECT_JS)
        want = inspect_logits([2.0, 1.0, 0.1, 3.0], cold["T"])
        np.testing.assert_allclose(cold["p"], want["probabilities"], rtol=1e-12, atol=1e-300)
        assert cold["p"][3] > 0.99 and cold["entropy"] < edited["entropy"]

        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "explorers-02-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(200)
        assert not explorer_overflow(page)
        page.screenshot(path=SHOTS / "explorers-02-phone.png", full_page=True)
        page.close()
        assert not watched.errors, watched.errors
        assert not watched.external(), watched.external()
    finally:
        server.shutdown()
        server.server_close()
