"""The kernel-less explorers (course/explorers.py): their embedded numbers and their HTML."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.special import softmax as scipy_softmax

from course import charlm
from course.explorers import (
    ASSETS_DIR,
    DEFAULT_TEMPERATURES,
    MASK_MODES,
    mask_explorer,
    mask_weights,
    page_assets,
    softmax_t,
    stable_masked_softmax,
    temperature_bars,
    temperature_explorer,
    top_indices,
)

from html_elements import Elements, embedded, script_suffixes


@pytest.fixture(scope="module")
def th_logits():
    model = charlm.train(charlm.load_corpus())
    return model.logits("th")


# ----------------------------------------------------------------------------- numbers


def test_softmax_t_matches_scipy_and_is_stable():
    z = np.array([2.0, 1.0, 0.1, -3.0])
    for t in (0.05, 0.5, 1.0, 3.0, 10.0):
        np.testing.assert_allclose(softmax_t(z, t), scipy_softmax(z / t), rtol=1e-12)
    p = softmax_t([1000.0, 999.0, -1000.0], 1e-3)  # exp(1e6) would overflow
    assert np.isfinite(p).all() and p[0] == 1.0
    with pytest.raises(ValueError):
        softmax_t(z, 0.0)


def test_temperature_bars_match_the_reference(th_logits):
    from course.reference import entropy, softmax_with_temperature

    for t in (DEFAULT_TEMPERATURES[0], 0.5, 1.0, 2.0, DEFAULT_TEMPERATURES[-1]):
        bars = temperature_bars(th_logits, charlm.VOCAB, t)
        p = softmax_with_temperature(th_logits, t)
        idx = top_indices(th_logits, 12)
        assert bars["labels"] == [charlm.VOCAB[i] for i in idx] + ["other"]
        np.testing.assert_allclose(bars["values"][:-1], p[idx], rtol=1e-12, atol=1e-15)
        assert bars["values"][-1] == pytest.approx(1 - p[idx].sum(), abs=1e-12)
        assert sum(bars["values"]) == pytest.approx(1, abs=1e-12)
        assert bars["entropy"] == pytest.approx(float(entropy(p)), rel=1e-12, abs=1e-12)
    assert temperature_bars(th_logits, charlm.VOCAB, DEFAULT_TEMPERATURES[0])["values"][0] > 0.9


def test_top_indices_keep_ties_together():
    z = np.array([5.0, 1.0, 3.0, 1.0, 1.0, 4.0])
    assert top_indices(z, 3) == [0, 5, 2]
    assert top_indices(z, 4) == [0, 5, 2]  # 1.0 three times: all go to "other"
    assert top_indices(z, 6) == [0, 5, 2, 1, 3, 4]
    assert top_indices(np.zeros(4), 2) == [0, 1]  # all equal: keep the first ones
    bars = temperature_bars(z, "abcdef", 1.0, top=4)
    assert bars["labels"] == ["a", "f", "c", "other"]


def test_default_temperatures_are_a_log_scale_through_1():
    t = np.array(DEFAULT_TEMPERATURES)
    assert t[0] == 0.05 and t[-1] == 10.0 and 1.0 in DEFAULT_TEMPERATURES
    ratios = t[1:] / t[:-1]
    assert (ratios > 1.1).all() and (ratios < 1.13).all()


def test_stable_masked_softmax():
    s = np.array([[1.0, 2.0, 3.0], [1e308, -1e308, 5.0], [0.0, 0.0, 0.0]])
    m = np.array([[True, False, True], [True, True, False], [False, False, False]])
    w = stable_masked_softmax(s, m)
    assert np.isfinite(w).all()
    np.testing.assert_allclose(w[0, [0, 2]], scipy_softmax([1.0, 3.0]), rtol=1e-12)
    assert w[0, 1] == 0 and w[1, 2] == 0
    np.testing.assert_array_equal(w[1], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(w[2], [0.0, 0.0, 0.0])  # fully masked: zeros, not NaN


@pytest.mark.parametrize("side", ["left", "right"])
def test_mask_weights(side):
    ex = mask_weights(6, 4, side, seed=6)
    n = 6
    real = ex["real"]
    assert real.sum() == 4 and (real[2:].all() if side == "left" else real[:4].all())
    modes = ex["modes"]
    assert set(modes) == set(MASK_MODES)
    np.testing.assert_array_equal(modes["causal"]["mask"], np.tril(np.ones((n, n), bool)))
    np.testing.assert_array_equal(modes["padding"]["mask"], np.broadcast_to(real, (n, n)))
    np.testing.assert_array_equal(
        modes["both"]["mask"], modes["causal"]["mask"] & modes["padding"]["mask"]
    )
    for mode, d in modes.items():
        w, m = d["weights"], d["mask"]
        assert np.isfinite(w).all()
        assert (w[~m] == 0).all(), mode
        for i in range(n):
            if m[i].any():
                assert w[i].sum() == pytest.approx(1, abs=1e-12)
                np.testing.assert_allclose(
                    w[i, m[i]], scipy_softmax(ex["scores"][i, m[i]]), rtol=1e-12
                )
            else:
                assert (w[i] == 0).all()
    empty = (~modes["both"]["mask"].any(axis=1)).sum()
    assert empty == (2 if side == "left" else 0)
    np.testing.assert_array_equal(ex["scores"], mask_weights(6, 4, side, seed=6)["scores"])


# ----------------------------------------------------------------------------- HTML


def test_temperature_explorer_embeds_the_logits_and_the_initial_view(th_logits):
    page = temperature_explorer(th_logits, list(charlm.VOCAB), context="th").data
    el = Elements(page)
    data = embedded(el)
    np.testing.assert_array_equal(data["logits"], th_logits)
    assert data["labels"] == list(charlm.VOCAB)
    assert data["temperatures"] == list(DEFAULT_TEMPERATURES)
    assert data["top"] == top_indices(th_logits, 12)
    t0 = data["temperatures"][data["start"]]
    assert t0 == 1.0
    bars = temperature_bars(th_logits, charlm.VOCAB, t0)
    rows = el.with_class("sx-row")
    assert [r["data-label"] for r in rows] == bars["labels"]
    np.testing.assert_allclose([float(r["data-value"]) for r in rows], bars["values"], rtol=1e-15)
    (out,) = el.find("output")
    assert float(out["data-entropy"]) == pytest.approx(bars["entropy"], rel=1e-15)
    assert out["aria-live"] == "polite"
    (slider,) = el.find("input", type="range")
    assert el.find("label", **{"for": slider["id"]}), "the slider has a label"
    assert int(slider["max"]) == len(DEFAULT_TEMPERATURES) - 1
    assert slider["aria-valuetext"] == "T = 1.00"
    for value in bars["values"]:
        assert f"{value:.3f}" in page


def test_mask_explorer_embeds_the_weights():
    page = mask_explorer().data
    el = Elements(page)
    data = embedded(el)
    ex = mask_weights()
    for mode in MASK_MODES:
        np.testing.assert_array_equal(data["modes"][mode]["mask"], ex["modes"][mode]["mask"])
        np.testing.assert_array_equal(data["modes"][mode]["weights"], ex["modes"][mode]["weights"])
        w = np.array(data["modes"][mode]["weights"])
        sums = w.sum(axis=1)
        assert np.all(np.isclose(sums, 1, atol=1e-12) | (np.abs(w).sum(axis=1) == 0)), mode
    cells = el.find("td", **{"class": "sx-cell"}) + el.find("td", **{"class": "sx-cell sx-masked"})
    assert len(cells) == 36
    radios = el.find("input", type="radio")
    assert [r["value"] for r in radios] == list(MASK_MODES)
    assert len({r["name"] for r in radios}) == 1
    assert [r for r in radios if "checked" in r] == [radios[0]]
    assert el.find("output")[0]["aria-live"] == "polite"
    assert el.find("legend") is not None
    # the initial view (causal) is rendered in Python: masked cells show 0
    masked = el.with_class("sx-masked")
    assert len(masked) == int((~ex["modes"]["causal"]["mask"]).sum())
    assert all(float(c["data-weight"]) == 0 for c in masked)


def test_ids_are_unique_across_widgets(th_logits):
    parts = [
        temperature_explorer(th_logits, list(charlm.VOCAB)).data,
        temperature_explorer(th_logits, list(charlm.VOCAB)).data,
        mask_explorer().data,
        mask_explorer().data,
    ]
    ids = [a["id"] for _, a in Elements("".join(parts)).tags if "id" in a]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for part in parts:
        el = Elements(part)
        own = {a["id"] for _, a in el.tags if "id" in a}
        (root,) = [a for _, a in el.tags if "data-explorer" in a]
        used = {root["id"] + suffix for suffix in script_suffixes(root["data-explorer"])}
        assert used and used <= own, used - own  # the script reads the explorer's own elements
        assert not re.search(r"getElementById\(", part)  # no per-explorer script but the call
        assert el.scripts.get("script-1", "").strip() == "window.sxExplorers.init();"
        names = {a["name"] for a in el.find("input") if "name" in a}
        for other in parts:
            if other is not part:
                assert not names & {a.get("name") for a in Elements(other).find("input")}


def test_html_fetches_nothing(th_logits):
    for page in (
        temperature_explorer(th_logits, list(charlm.VOCAB)).data,
        mask_explorer().data,
        page_assets(),
    ):
        el = Elements(page)
        refs = [
            a.get(k) for _, a in el.tags for k in ("src", "href", "srcset", "action") if a.get(k)
        ]
        assert not refs, refs
        assert not el.find("link") and not el.find("iframe") and not el.find("img")
        assert all("src" not in a for a in el.find("script"))
        assert "http://" not in page and "https://" not in page
        assert not re.search(r"""(src|href)\s*=\s*["']?//""", page)
        assert "@import" not in page and not re.search(r"url\(\s*['\"]?(https?:)?//", page)
        assert not re.search(r"\b(fetch|XMLHttpRequest|import\()", page)


def test_bad_arguments_are_refused(th_logits):
    with pytest.raises(ValueError):
        temperature_explorer(th_logits, ["a", "b"])
    with pytest.raises(ValueError):
        temperature_explorer(th_logits, list(charlm.VOCAB), temperatures=[1.0, 0.5])
    with pytest.raises(ValueError):
        mask_explorer(initial="diagonal")
    with pytest.raises(ValueError):
        mask_weights(6, 7)


def test_assets_are_served_once_per_kernel(th_logits, monkeypatch):
    """Shown in a notebook, the kernel's first explorer carries the stylesheet and script."""
    from course import explorers

    monkeypatch.setattr(explorers, "_assets_shown", False)
    first = temperature_explorer(th_logits, list(charlm.VOCAB))._repr_html_()
    second = mask_explorer()._repr_html_()
    css = (ASSETS_DIR / "explorers.css").read_text(encoding="utf-8")
    js = (ASSETS_DIR / "explorers.js").read_text(encoding="utf-8")
    assert first.count(css) == 1 and first.count(js) == 1
    assert css not in second and js not in second and "<style" not in second
    for page in (first, second):
        assert page.replace(js, "").count("window.sxExplorers.init();") == 1
