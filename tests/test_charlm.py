"""Unit tests of the course's tiny character-level language model (course/charlm.py)."""

from __future__ import annotations

import numpy as np
import pytest

from course import charlm


@pytest.fixture(scope="module")
def words():
    return charlm.load_corpus()


@pytest.fixture(scope="module")
def model(words):
    return charlm.train(words)


def test_corpus_is_lowercase_words(words):
    assert 1000 < len(words) < 50_000
    assert all(w.isalpha() and w.islower() and w.isascii() for w in words)
    assert len(set(words)) == len(words)


def test_training_is_deterministic(words, model):
    again = charlm.train(words)
    assert again.order == model.order and again.alpha == model.alpha
    assert np.array_equal(again.counts, model.counts)


def test_counts_match_the_corpus(words, model):
    # every word contributes len(word) + 1 predictions (its letters and the end mark)
    assert model.counts.sum() == sum(len(w) + 1 for w in words)
    # how many words start with "q" is the count of "..." followed by "q"
    start = tuple(charlm.encode("." * model.order))
    assert model.counts[start + (charlm.VOCAB.index("q"),)] == sum(w.startswith("q") for w in words)


@pytest.mark.parametrize("context", ["", "t", "th", "the", "strength", "qz"])
def test_logits_shape_and_probabilities(model, context):
    z = model.logits(context)
    assert z.shape == (len(charlm.VOCAB),) and z.dtype == np.float64
    assert np.all(np.isfinite(z)), "smoothing keeps every logit finite"
    p = model.probabilities(context)
    assert np.all(p > 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_only_the_last_characters_matter(model):
    assert np.array_equal(model.logits("xyzthe"), model.logits("the"))
    assert not np.array_equal(model.logits("th"), model.logits("sh"))


def test_the_model_has_learned_english(model):
    p = model.probabilities("q")
    assert charlm.VOCAB[int(np.argmax(p))] == "u"
    assert model.probabilities("")[charlm.VOCAB.index(".")] < 1e-3, "words are not empty"


def test_unknown_characters_are_rejected(model):
    with pytest.raises(ValueError, match="vocabulary"):
        model.logits("Th")
    with pytest.raises(ValueError, match="vocabulary"):
        charlm.train(["caf\u00e9"])


@pytest.mark.parametrize("order", [0, 1, 2])
def test_other_orders(words, order):
    m = charlm.train(words[:500], order=order, alpha=0.5)
    assert m.counts.shape == (len(charlm.VOCAB),) * (order + 1)
    assert m.probabilities("ab").sum() == pytest.approx(1.0)


def test_bad_arguments():
    with pytest.raises(ValueError):
        charlm.train(["cat"], order=-1)
    with pytest.raises(ValueError):
        charlm.train(["cat"], alpha=0.0)
    with pytest.raises(ValueError):
        charlm.gumbel_max_sample(np.zeros(3), 0.0, np.random.default_rng(0))


def test_generated_words_use_the_vocabulary(model):
    out = charlm.generate(model, 50, temperature=1.0, rng=np.random.default_rng(0), max_length=12)
    assert len(out) == 50
    assert all(set(w) <= set(charlm.VOCAB[1:]) and len(w) <= 12 for w in out)


def test_generation_is_reproducible(model):
    a = charlm.generate(model, 20, 0.8, np.random.default_rng(5))
    b = charlm.generate(model, 20, 0.8, np.random.default_rng(5))
    c = charlm.generate(model, 20, 0.8, np.random.default_rng(6))
    assert a == b and a != c


def test_temperature_changes_the_distribution(model):
    z = model.logits("th")
    rng = np.random.default_rng(1)
    top = int(np.argmax(z))
    cold = [charlm.gumbel_max_sample(z, 0.05, rng) for _ in range(300)]
    hot = [charlm.gumbel_max_sample(z, 20.0, rng) for _ in range(300)]
    assert np.mean(np.array(cold) == top) > 0.95
    assert np.mean(np.array(hot) == top) < 0.3
    assert len(set(hot)) > len(set(cold))


def test_gumbel_max_follows_the_softmax(model):
    z = model.logits("st")
    rng = np.random.default_rng(2)
    draws = np.array([charlm.gumbel_max_sample(z, 1.0, rng) for _ in range(4000)])
    freq = np.bincount(draws, minlength=len(z)) / len(draws)
    assert np.abs(freq - model.probabilities("st")).max() < 0.04


def test_a_custom_sampler_is_used(model):
    def greedy(logits, temperature, rng):
        return int(np.argmax(logits))

    words = charlm.generate(model, 3, sampler=greedy, rng=np.random.default_rng(0))
    assert len(set(words)) == 1 and words[0]


def test_low_temperature_makes_fewer_distinct_words(model):
    cold = charlm.generate(model, 100, 0.3, np.random.default_rng(3))
    hot = charlm.generate(model, 100, 1.5, np.random.default_rng(3))
    assert len(set(cold)) < len(set(hot))
