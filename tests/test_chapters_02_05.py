"""Chapters 02 and 05: the numbers their prose states, recomputed here, and the built pages.

The fast tests recompute each stated number with the course's code, independently of the
chapter's own cells, and check the claim the prose makes about it. The slow ones build the
book strictly (the ``site`` fixture of test_book.py) and check that the pages show those
numbers, that chapter 02 shows the temperature chapter 05 fits, and the page structure
issue 13 asks for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax as scipy_softmax

from course import charlm, wordlm
from course.reference import cross_entropy, cross_entropy_grad, entropy, sigmoid, top_p_filter

from conftest import ROOT

BOOK = ROOT / "book"
PAGES = {"02": BOOK / "02-temperature.md", "05": BOOK / "05-cross-entropy.md"}
CONTEXTS = ["once upon a", "the united", "thank you very", "i would like to", "of the"]


@pytest.fixture(scope="module")
def lm():
    return wordlm.load()


def kept(z, p=0.9):
    return int(np.isfinite(top_p_filter(np.asarray(z), p)).sum())


# ----------------------------------------------------------------------------- chapter 05


def test_worked_example_by_hand():
    """(3, 1, -2, 0) with the second class as target: 2.1755 by the five steps of the page."""
    z = np.array([3.0, 1.0, -2.0, 0.0])
    m = z.max()
    by_hand = m + np.log(np.exp(z - m).sum()) - z[1]
    assert round(by_hand, 4) == 2.1755
    assert cross_entropy([z], [1]) == pytest.approx(by_hand, abs=1e-12)
    assert round(float(np.exp(z - m).sum()), 4) == 1.1919
    assert round(float(scipy_softmax(z)[1]), 4) == 0.1135


def test_practice_problem_five_two_one():
    assert round(cross_entropy([[5.0, 2.0, 1.0]], [0]), 4) == 0.0659
    assert round(5 + np.log(1 + np.exp(-3.0) + np.exp(-4.0)), 4) == 5.0659


def test_confident_and_wrong():
    z = np.array([[10.0, 9.0, 0.0]])
    losses = [cross_entropy(z, [i]) for i in range(3)]
    assert [round(v, 4) for v in losses] == [0.3133, 1.3133, 10.3133]
    assert abs(losses[2] - 10) < np.log(3)  # within log K of the gap, as the bound says
    sure = [cross_entropy(10 * z, [i]) for i in range(3)]
    assert sure[0] < 1e-4 and round(sure[1], 2) == 10.0 and round(sure[2]) == 100


def test_multi_label_example():
    z, t = np.array([2.0, 1.5, -1.0]), np.array([1.0, 1.0, 0.0])
    assert scipy_softmax(z).sum() == pytest.approx(1) and sigmoid(z).sum() > 1.9
    np.testing.assert_allclose(sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    bce = np.mean(t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z))
    assert bce == pytest.approx(
        np.mean(-(t * np.log(sigmoid(z)) + (1 - t) * np.log(1 - sigmoid(z))))
    )
    # a softmax trained on "cat" alone pushes "dog" down: its gradient is positive
    assert cross_entropy_grad(z[None, :], [0])[0, 1] > 0


def test_one_hot_network_learns_the_log_counts():
    """Gradient descent on one-hot(previous char) @ W ends at log(count + 1) minus row means."""
    words = charlm.load_corpus()[::8]
    coded = [charlm.encode("." + w + ".") for w in words]
    prev = np.concatenate([c[:-1] for c in coded])
    nxt = np.concatenate([c[1:] for c in coded])
    V = len(charlm.VOCAB)
    counts = np.zeros((V, V))
    np.add.at(counts, (prev, nxt), 1)
    a, c = np.divmod(np.arange(V * V), V)
    prev, nxt = np.r_[prev, a], np.r_[nxt, c]
    # the optimum in closed form: each row's softmax is the row's relative frequency
    n = counts + 1
    optimum = -np.sum(n * np.log(n / n.sum(axis=1, keepdims=True))) / n.sum()
    target = np.log(n) - np.log(n).mean(axis=1, keepdims=True)
    assert cross_entropy(target[prev], nxt) == pytest.approx(optimum, rel=1e-12)
    W = np.zeros((V, V))
    for _ in range(300):
        G = cross_entropy_grad(W[prev], nxt)
        grad_w = np.zeros((V, V))
        np.add.at(grad_w, prev, G)
        W -= 60.0 * grad_w
    assert np.corrcoef(W.ravel(), target.ravel())[0, 1] > 0.999
    assert np.abs(W - target).mean() < 0.05
    assert np.abs(W.mean(axis=1)).max() < 1e-12  # row means stay at their start, 0
    assert cross_entropy(W[prev], nxt) - optimum < 1e-3
    q, u = charlm.VOCAB.index("q"), charlm.VOCAB.index("u")
    assert W[q].argmax() == u


# ----------------------------------------------------------------------------- chapter 02


def test_word_model_table(lm):
    """Table 'tab-words': the nucleus and the top-50 mass differ enormously by context."""
    stats = {}
    for c in CONTEXTS:
        z = lm.logits(c)
        p = scipy_softmax(z)
        stats[c] = (kept(z), float(np.exp(entropy(p))), np.sort(p)[::-1][:50].sum())
    assert stats["the united"][0] == 2 and stats["of the"][0] > 4000
    assert min(stats, key=lambda c: stats[c][0]) == "the united"
    assert max(stats, key=lambda c: stats[c][0]) == "of the"
    assert stats["the united"][2] > 0.98 and stats["of the"][2] < 0.3
    assert stats["once upon a"][0] > 1000  # a confident favourite, yet a large nucleus
    assert round(stats["the united"][1]) == 2 and round(stats["of the"][1]) > 1900


def test_temperature_moves_the_nucleus(lm):
    z = lm.logits("once upon a")
    time = lm.index("time")
    cold = scipy_softmax(z / 0.7)
    assert cold[time] > 0.9 and kept(z / 0.7) == 1  # "the nucleus is that one word"
    sizes = [kept(z / t) for t in (0.7, 1.0, 1.3, 2.0)]
    assert sizes == sorted(sizes) and sizes[1] == 1047 and sizes[3] > 20_000
    tail = np.sort(scipy_softmax(z))[::-1][100:].sum()
    assert round(1 / tail) == 4  # "about once in 4 draws"


def test_generated_words_and_english(lm):
    """The corrected sentence: at T = 1.5 a real word ("slur") slips through, but rarely."""
    from course.reference import sample

    model = charlm.train(charlm.load_corpus())
    english = set(lm.words)
    shown = charlm.generate(model, 6, 1.5, np.random.default_rng(42), sampler=sample)
    assert "slur" in shown and "slur" in english
    share = {}
    for t in (0.3, 1.0, 1.5):
        out = charlm.generate(model, 400, t, np.random.default_rng(7), sampler=sample)
        share[t] = np.mean([w in english for w in out])
    assert share[0.3] > share[1.0] > share[1.5] and share[1.5] < 0.5


def test_maximum_entropy_is_the_softmax():
    """For a given mean score no distribution has more entropy than softmax(z / T)."""
    z = np.array([2.0, 1.0, 0.1, -1.0])
    from scipy.optimize import brentq

    T = brentq(lambda t: scipy_softmax(z / t) @ z - 1.2, 0.01, 100)
    p = scipy_softmax(z / T)
    rng = np.random.default_rng(0)
    null = np.linalg.svd(np.vstack([np.ones(4), z]))[2][2:].T
    for _ in range(2000):
        q = p + 0.05 * null @ rng.standard_normal(2)
        if (q >= 0).all():
            assert entropy(q) < entropy(p)
    assert round(T, 4) == 1.6294


# ----------------------------------------------------------------------------- sources


@pytest.mark.parametrize("chapter", sorted(PAGES))
def test_chapter_mentions_are_links(chapter):
    text = PAGES[chapter].read_text(encoding="utf-8")
    bare = [m.group(0) for m in re.finditer(r"(?<!\[)\b[Cc]hapters? \d\d\b(?!\]\()", text)]
    assert not bare, bare


@pytest.mark.parametrize("chapter", sorted(PAGES))
def test_takeaways_and_self_check(chapter):
    text = PAGES[chapter].read_text(encoding="utf-8")
    takeaways = text.split("## Key takeaways", 1)[1].split("\n## ", 1)[0]
    bullets = re.findall(r"^- ", takeaways, flags=re.M)
    assert 1 <= len(bullets) <= 5
    quiz = text.split("## Self-check", 1)[1].split("\n## ", 1)[0]
    assert quiz.count(":::{dropdown} Answer") >= 4
    assert quiz.count("**") >= 8  # numbered questions
    assert (
        text.index("## Key takeaways") < text.index("## Self-check") < text.index("## References")
    )


def test_chapter_02_fixes_in_the_source():
    text = PAGES["02"].read_text(encoding="utf-8")
    assert "no English word resembles" not in text
    assert "only temperature at which its probabilities are calibrated" not in text
    assert "05-cross-entropy.md::T_best" in text
    assert (
        "{glue:figure} tab_th" not in text and ":::{list-table} The model's next-character" in text
    )


def test_chapter_05_credits_shift_invariance_to_chapter_01():
    text = PAGES["05"].read_text(encoding="utf-8")
    assert "(chapter 03)" not in text
    assert "is unchanged ([chapter 01](01-definition.md))" in text


# ----------------------------------------------------------------------------- built pages


def page_text(site_dir, name: str) -> str:
    html = (site_dir / "book" / f"{name}.html").read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def glued(build: Path, name: str) -> dict:
    path = build / "jupyter_execute" / "book" / f"{name}.glue.json"
    return {
        k: v["data"]["text/plain"]
        for k, v in json.loads(path.read_text()).items()
        if "text/plain" in v.get("data", {})
    }


@pytest.mark.slow
def test_chapter_02_shows_chapter_05s_temperature(site, built_book):
    t_best = float(glued(built_book.build, "05-cross-entropy")["T_best"])
    assert round(t_best, 2) == 3.74
    text = page_text(site, "02-temperature")
    assert re.search(r"T\^\\star =\\\) 3\.74 ", text), "ch02 pastes T* from chapter 05"
    assert f"{t_best:.2f}" in page_text(site, "05-cross-entropy")


@pytest.mark.slow
def test_built_pages_show_the_recomputed_numbers(site, lm):
    ch05 = page_text(site, "05-cross-entropy")
    for value in ("2.1755", "0.0659", "0.3133", "1.3133", "10.31", "1.1919", "0.1135"):
        assert value in ch05, value
    ch02 = page_text(site, "02-temperature")
    for c in CONTEXTS:
        assert f"{kept(lm.logits(c)):,}" in ch02, c
    assert "slur" in ch02 and "1,047" in ch02
    assert "72,546" in ch02 and "72,547" in ch02


@pytest.mark.slow
def test_tables_have_captions_not_figure_numbers(site):
    html = (site / "book" / "02-temperature.html").read_text(encoding="utf-8")
    for name, words in (
        ("tab-th", "next-character probabilities"),
        ("tab-words", "Next-word distributions"),
    ):
        m = re.search(rf'<table[^>]*id="{name}".*?</table>', html, flags=re.S)
        assert m, name
        caption = re.search(r"<caption>(.*?)</caption>", m.group(0), flags=re.S)
        assert caption and words in caption.group(1) and "Table" in caption.group(1)
    assert 'data-explorer="context-temperature"' in html and 'data-explorer="logits"' in html
