"""A tiny character-level language model, in pure NumPy, that makes real logits.

The model reads a word one letter at a time and predicts the next letter from
the ``order`` letters before it: a character n-gram model with add-alpha
smoothing, trained by counting. Its logits are log-counts,

    logits(context)[c] = log(count(context followed by c) + alpha),

so that softmax(logits) is the smoothed relative frequency of each next
character. Training on the course's word list (``data/words.txt``, a subset
of Debian's ``wamerican-small`` word list, see ``data/README.md``) takes a
fraction of a second and is deterministic.

Example::

    from course import charlm

    model = charlm.train(charlm.load_corpus())
    model.logits("th")                     # 27 logits: "." (end of word), a ... z
    charlm.generate(model, 5, temperature=0.8, rng=np.random.default_rng(0))
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The model's characters: ``"."`` marks the start and the end of a word.
BOUNDARY = "."
VOCAB = BOUNDARY + string.ascii_lowercase

#: The word list shipped with the course.
CORPUS_PATH = Path(__file__).parent / "data" / "words.txt"

_INDEX = {c: i for i, c in enumerate(VOCAB)}


@dataclass(frozen=True)
class CharLM:
    """A trained character n-gram model.

    Attributes:
        order: how many previous characters the model looks at.
        alpha: the add-alpha smoothing count given to every next character.
        counts: float64 array of shape ``(len(VOCAB),) * (order + 1)``; the
            entry ``[a, b, c]`` (for order 2) counts "ab" followed by "c".
    """

    order: int
    alpha: float
    counts: np.ndarray

    @property
    def vocab(self) -> str:
        """The characters, in the order of the logits."""
        return VOCAB

    def logits(self, context: str) -> np.ndarray:
        """The next-character logits after ``context``.

        Args:
            context: the word so far (letters a-z); may be empty. Only its last
                ``order`` characters matter; a shorter one is padded on the
                left with the boundary mark, as at the start of a word.

        Returns:
            A float64 array of shape ``(len(VOCAB),)``: ``log(count + alpha)``
            for each next character, in the order of ``VOCAB``.

        Raises:
            ValueError: if ``context`` holds a character outside ``VOCAB``.
        """
        padded = BOUNDARY * self.order + context
        key = tuple(encode(padded[len(padded) - self.order :])) if self.order else ()
        return np.log(self.counts[key] + self.alpha)

    def probabilities(self, context: str) -> np.ndarray:
        """softmax(logits(context)): the model's next-character distribution.

        Args:
            context: the word so far (see :meth:`logits`).

        Returns:
            A float64 array of shape ``(len(VOCAB),)`` that sums to 1.
        """
        z = self.logits(context)
        e = np.exp(z - z.max())
        return e / e.sum()


def encode(text: str) -> np.ndarray:
    """The indices in ``VOCAB`` of the characters of ``text`` (an int array).

    Args:
        text: the characters to encode.

    Raises:
        ValueError: if ``text`` holds a character outside ``VOCAB``.
    """
    try:
        return np.array([_INDEX[c] for c in text], dtype=np.intp)
    except KeyError as exc:
        raise ValueError(
            f"character {exc.args[0]!r} is not in the model's vocabulary {VOCAB!r}"
        ) from None


def load_corpus(path: str | Path = CORPUS_PATH) -> list[str]:
    """The training words: one lowercase word a line, blank lines skipped.

    Args:
        path: the corpus file; by default the one shipped with the course.

    Raises:
        ValueError: if a word holds a character outside ``VOCAB``.
    """
    words = Path(path).read_text(encoding="utf-8").split()
    for word in words:
        encode(word)  # raises ValueError for a character outside the vocabulary
    return words


def train(words: list[str], order: int = 3, alpha: float = 0.01) -> CharLM:
    """Count every (context, next character) pair in ``words``.

    Each word is read as ``"." * order + word + "."``, so the model also learns
    how words begin and when they end. Training is deterministic.

    Args:
        words: the training words (letters a-z).
        order: how many previous characters predict the next one (>= 0).
        alpha: smoothing count added to every next character (> 0), so that
            no logit is -inf.

    Returns:
        The trained :class:`CharLM`.
    """
    if order < 0 or int(order) != order:
        raise ValueError(f"order must be a non-negative integer, got {order!r}")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    order = int(order)
    counts = np.zeros((len(VOCAB),) * (order + 1))
    for word in words:
        ids = encode(BOUNDARY * order + word + BOUNDARY)
        # all windows of order + 1 characters, as index columns
        windows = np.lib.stride_tricks.sliding_window_view(ids, order + 1)
        np.add.at(counts, tuple(windows.T), 1.0)
    return CharLM(order=order, alpha=float(alpha), counts=counts)


def gumbel_max_sample(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Draw one index from softmax(logits / temperature) by the Gumbel-max trick.

    argmax(logits / T + G) with independent standard Gumbel noise G is
    distributed as softmax(logits / T).

    Args:
        logits: the scores, a 1-D array.
        temperature: T, a positive number.
        rng: the generator the Gumbel noise is drawn from.

    Returns:
        The index drawn.

    Raises:
        ValueError: if ``temperature`` is not positive.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    return int(np.argmax(np.asarray(logits) / temperature + rng.gumbel(size=len(logits))))


def generate(
    model: CharLM,
    n: int,
    temperature: float = 1.0,
    rng: np.random.Generator | None = None,
    *,
    sampler=None,
    max_length: int = 20,
) -> list[str]:
    """Generate ``n`` words, one sampled character at a time.

    Args:
        model: a trained :class:`CharLM`.
        n: how many words.
        temperature: the sampling temperature (> 0).
        rng: a NumPy random generator (a new default one when None).
        sampler: ``sampler(logits, temperature, rng) -> int`` picks the next
            character's index; by default :func:`gumbel_max_sample`. The
            course's ``sample`` exercise fits here.
        max_length: a word is cut after this many characters.

    Returns:
        ``n`` strings of letters a-z (a word may be empty if the model ends
        it at once).
    """
    rng = np.random.default_rng() if rng is None else rng
    sampler = gumbel_max_sample if sampler is None else sampler
    words = []
    for _ in range(n):
        word = ""
        while len(word) < max_length:
            c = VOCAB[int(sampler(model.logits(word), temperature, rng))]
            if c == BOUNDARY:
                break
            word += c
        words.append(word)
    return words
