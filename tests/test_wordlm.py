"""The wrapper of PocketSphinx's English trigram model (course/wordlm.py), on the real file."""

from __future__ import annotations

import numpy as np
import pytest

from course import wordlm


@pytest.fixture(scope="module")
def lm():
    return wordlm.load()


def test_the_model_file_ships_with_the_package():
    path = wordlm.model_path()
    assert path.is_file() and path.name == "en-us.lm.bin"
    assert wordlm.read_header(path) == (3, (72_547, 2_051_547, 1_669_625))


def test_vocabulary_is_read_in_full():
    vocab = wordlm.read_vocabulary(wordlm.model_path())
    assert len(vocab) == 72_547 and len(set(vocab)) == len(vocab)
    assert {"<s>", "</s>", "time", "states", "a"} <= set(vocab)
    assert vocab == sorted(vocab)  # the file stores the words sorted
    assert vocab[0] == "'bout" and vocab[-1] == "zyuganov's"


def test_start_mark_is_not_a_next_word(lm):
    assert len(lm.words) == 72_546
    assert "<s>" not in lm.words and "</s>" in lm.words
    assert lm.words[lm.index("time")] == "time"
    with pytest.raises(ValueError, match="not in the model's vocabulary"):
        lm.index("<s>")


def test_logits_are_the_packages_log_probabilities(lm):
    """prob([w, h1, h2]) is log P(w | h2 h1) in LogMath units; the wrapper converts to nats."""
    from pocketsphinx import Config, LogMath, NGramModel

    z = lm.logits("once upon a")
    raw = NGramModel(Config(), LogMath(), str(wordlm.model_path()))
    for word in ("time", "lot", "zebra"):
        want = LogMath().log_to_ln(raw.prob([word, "a", "upon"]))
        assert z[lm.index(word)] == want
    assert LogMath().log_to_ln(-10000) == pytest.approx(-10000 * np.log(1.0001), rel=1e-9)
    assert z.dtype == np.float64 and z.shape == (72_546,) and np.isfinite(z).all()
    assert not z.flags.writeable
    assert lm.logits("once upon a") is z  # cached


def test_probed_numbers(lm):
    """The numbers issue 13 probed: once upon a -> time 0.565; the united -> states, nations."""
    assert lm.top("once upon a", 1)[0] == ("time", pytest.approx(0.565, abs=5e-4))
    states, nations = lm.top("the united", 2)
    assert states == ("states", pytest.approx(0.887, abs=1e-3))
    assert nations == ("nations", pytest.approx(0.053, abs=5e-4))


@pytest.mark.parametrize("context", ["", "once upon a", "the united", "of the", "thank you very"])
def test_distributions_sum_to_one(lm, context):
    p_model = np.exp(lm.logits(context))
    assert p_model.sum() == pytest.approx(1.0, abs=2e-3)  # stored rounded
    p = lm.probabilities(context)
    assert p.sum() == pytest.approx(1.0, abs=1e-12) and (p > 0).all()


def test_history_is_the_last_two_words(lm):
    assert lm.history("in the middle of the") == ["of", "the"]
    assert lm.history("Once UPON a") == ["upon", "a"]
    assert lm.history("hello") == ["<s>", "hello"]
    assert lm.history("") == ["<s>", "<s>"]
    np.testing.assert_array_equal(lm.logits("in the middle of the"), lm.logits("of the"))
    assert not np.array_equal(lm.logits("of the"), lm.logits("the"))
    with pytest.raises(ValueError, match="'qwzx'"):
        lm.logits("the qwzx")


def test_top_is_sorted(lm):
    top = lm.top("of the", 20)
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and len(top) == 20


def test_not_a_model_is_refused(tmp_path):
    bad = tmp_path / "x.lm.bin"
    bad.write_bytes(b"not a language model")
    with pytest.raises(ValueError, match="not a Sphinx trie language model"):
        wordlm.read_header(bad)
    cut = tmp_path / "cut.lm.bin"
    cut.write_bytes(wordlm.model_path().read_bytes()[:100_000])
    with pytest.raises(ValueError, match="no vocabulary"):
        wordlm.read_vocabulary(cut)
