"""Chapter 02's extra explorers (course/temperature_explorers.py): their numbers and HTML."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax as scipy_softmax

from course import wordlm
from course.explorers import DEFAULT_TEMPERATURES, mask_explorer, temperature_explorer
from course.temperature_explorers import (
    _odds_text,
    context_explorer,
    context_views,
    inspect_logits,
    logits_inspector,
    nucleus_size,
)

from html_elements import Elements, embedded, script_suffixes

CONTEXTS = ("once upon a", "the united")


@pytest.fixture(scope="module")
def lm():
    return wordlm.load()


@pytest.fixture(scope="module")
def logits(lm):
    return {c: lm.logits(c) for c in CONTEXTS}


def test_nucleus_size_follows_the_contract():
    from course.reference import top_p_filter

    rng = np.random.default_rng(0)
    cases = [
        np.log([0.5, 0.2, 0.2, 0.1]),
        np.zeros(5),
        np.array([3.0, 3.0, 1.0, 1.0, 0.0]),
        *(rng.normal(size=50) * s for s in (0.3, 1.0, 4.0)),
    ]
    for z in cases:
        p = scipy_softmax(z)
        for top_p in (0.05, 0.5, 0.6, 0.9, 1.0):
            assert nucleus_size(p, top_p) == np.isfinite(top_p_filter(z, top_p)).sum(), (z, top_p)
    assert nucleus_size([0.5, 0.2, 0.2, 0.1], 0.6) == 3  # the tied 0.2s stay together
    assert nucleus_size([0.5, 0.2, 0.2, 0.1], 0.5) == 1
    with pytest.raises(ValueError):
        nucleus_size([1.0], 0.0)


def test_context_views_match_a_direct_computation(lm, logits):
    from course.reference import entropy, softmax_with_temperature, top_p_filter

    temps = (0.5, 1.0, 2.0)
    views = context_views(logits, lm.words, temps, top=5)
    assert list(views) == list(CONTEXTS)
    for c, z in logits.items():
        v = views[c]
        order = np.argsort(-z, kind="stable")[:5]
        assert v["labels"] == [lm.words[i] for i in order] + ["other"]
        for k, t in enumerate(temps):
            p = softmax_with_temperature(z, t)
            np.testing.assert_allclose(v["values"][k][:-1], p[order], rtol=1e-12)
            assert sum(v["values"][k]) == pytest.approx(1, abs=1e-12)
            assert v["entropy"][k] == pytest.approx(float(entropy(p)), rel=1e-10)
            assert v["nucleus"][k] == np.isfinite(top_p_filter(z / t, 0.9)).sum()
    assert views["once upon a"]["labels"][0] == "time"
    assert views["the united"]["labels"][:2] == ["states", "nations"]
    # colder is sharper: the nucleus and the entropy grow with T
    for v in views.values():
        assert v["nucleus"] == sorted(v["nucleus"]) and v["entropy"] == sorted(v["entropy"])
    with pytest.raises(ValueError):
        context_views({"x": [0.0, 1.0]}, lm.words)


def test_context_explorer_html(lm, logits):
    page = context_explorer(logits, lm.words, top=8).data
    el = Elements(page)
    data = embedded(el)
    assert data["contexts"] == list(CONTEXTS) and data["n"] == len(lm.words) == 72_546
    assert data["temperatures"] == list(DEFAULT_TEMPERATURES)
    assert data["views"] == context_views(logits, lm.words, top=8)
    start = data["start"]
    assert data["temperatures"][start] == 1.0
    first = data["views"]["once upon a"]
    rows = [r for r in el.with_class("sx-row") if "hidden" not in r]
    assert [r["data-label"] for r in rows] == first["labels"]
    np.testing.assert_allclose(
        [float(r["data-value"]) for r in rows], first["values"][start], rtol=1e-15
    )
    (out,) = el.find("output")
    assert out["aria-live"] == "polite"
    assert int(out["data-nucleus"]) == first["nucleus"][start]
    assert f"keeps {first['nucleus'][start]:,} of 72,546 words" in page
    (menu,) = el.find("select")
    assert el.find("label", **{"for": menu["id"]})
    assert [o["value"] for o in el.find("option")] == ["0", "1"]
    (slider,) = el.find("input", type="range")
    assert el.find("label", **{"for": slider["id"]})
    assert len(page) < 200_000  # the vocabulary itself is not embedded
    assert "http" not in page and not el.find("link") and not el.find("img")


def test_inspect_logits():
    got = inspect_logits([2.0, 1.0, 0.1], 1.0)
    np.testing.assert_allclose(got["probabilities"], scipy_softmax([2.0, 1.0, 0.1]), rtol=1e-12)
    np.testing.assert_allclose(got["odds"], np.exp([0.0, -1.0, -1.9]), rtol=1e-12)
    p = np.array(got["probabilities"])
    assert got["entropy"] == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)
    cold = inspect_logits([1000.0, 999.0, 0.0], 0.05)  # stable: no overflow
    assert np.isfinite(cold["probabilities"]).all() and cold["odds"][0] == 1.0
    assert cold["odds"][1] == pytest.approx(np.exp(-20.0), rel=1e-12)


def test_logits_inspector_html():
    page = logits_inspector([2.0, 1.0, 0.1], ["cat", "dog", "fish"]).data
    el = Elements(page)
    data = embedded(el)
    assert data["logits"] == [2.0, 1.0, 0.1] and data["labels"] == ["cat", "dog", "fish"]
    boxes = el.find("input", type="number")
    assert [b["value"] for b in boxes] == ["2", "1", "0.1"]
    for b in boxes:
        assert el.find("label", **{"for": b["id"]}), "each logit box has a label"
    shown = inspect_logits([2.0, 1.0, 0.1], 1.0)
    rows = el.with_class("sx-opt")
    np.testing.assert_allclose(
        [float(r["data-p"]) for r in rows], shown["probabilities"], rtol=1e-15
    )
    np.testing.assert_allclose([float(r["data-odds"]) for r in rows], shown["odds"], rtol=1e-15)
    (out,) = el.find("output")
    assert out["aria-live"] == "polite"
    assert float(out["data-entropy"]) == pytest.approx(shown["entropy"], rel=1e-15)
    assert f"entropy {shown['entropy']:.3f} nats" in page
    with pytest.raises(ValueError):
        logits_inspector([1.0], ["a"])
    with pytest.raises(ValueError):
        logits_inspector([1.0, np.inf], ["a", "b"])


def test_odds_text_is_what_the_script_writes():
    assert _odds_text(1.0) == "1.00"
    assert _odds_text(np.exp(-1.0)) == "0.368"
    assert _odds_text(0.0012345) == "0.00123"
    assert _odds_text(4.54e-5) == "4.5e-5"


def test_ids_stay_unique_beside_the_other_explorers(logits, lm):
    parts = [
        context_explorer(logits, lm.words).data,
        context_explorer(logits, lm.words).data,
        logits_inspector([1.0, 0.0], ["a", "b"]).data,
        logits_inspector([1.0, 0.0], ["a", "b"]).data,
        temperature_explorer([1.0, 0.0], ["a", "b"]).data,
        mask_explorer().data,
    ]
    ids = [a["id"] for _, a in Elements("".join(parts)).tags if "id" in a]
    assert len(ids) == len(set(ids))
    for part in parts:
        el = Elements(part)
        own = {a["id"] for _, a in el.tags if "id" in a}
        (root,) = [a for _, a in el.tags if "data-explorer" in a]
        used = {root["id"] + suffix for suffix in script_suffixes(root["data-explorer"])}
        assert used and used <= own
