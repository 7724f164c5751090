"""A real English word-level language model: the trigram model that ships with PocketSphinx.

The PyPI package ``pocketsphinx`` (BSD-2-Clause, pinned in requirements.txt) contains
``pocketsphinx/model/en-us/en-us.lm.bin``, a trigram language model of US English with
72,547 words (2.05 million bigrams, 1.67 million trigrams) in the binary "trie" format of
CMU Sphinx. This module reads it through the package's own API and turns it into what the
book needs: for a context, one log-probability per word of the vocabulary, usable as
logits.

How the pieces are found (checked on the installed file by ``tests/test_wordlm.py``):

- ``pocketsphinx.NGramModel(Config(), LogMath(), path).prob([w, h1, h2])`` is
  log P(w | h2 h1) in LogMath's units (base 1.0001), where ``h1`` is the word just before
  ``w`` and ``h2`` the one before that; ``LogMath().log_to_ln`` converts it to nats.
- The file starts with ``b"Trie Language Model"``, the order (one byte) and the numbers of
  1-, 2- and 3-grams (little-endian uint32). It ends with the vocabulary: a uint32 byte
  count, then the words, each followed by a NUL byte, in sorted order.
- The vocabulary holds the sentence marks ``<s>`` and ``</s>``. ``<s>`` (start of a
  sentence) is only ever a context, never a next word, so :data:`WordLM.words` leaves it
  out; ``</s>`` (end of the sentence) is a next word like any other.

Example::

    from course import wordlm

    lm = wordlm.load()
    z = lm.logits("once upon a")      # 72,546 log-probabilities, in nats
    lm.top("once upon a", 3)          # [('time', 0.565...), ('lot', 0.024...), ...]
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported lazily at run time (see load())
    from pocketsphinx import LogMath, NGramModel

#: The sentence marks of the model's vocabulary.
SENTENCE_START = "<s>"
SENTENCE_END = "</s>"

_MAGIC = b"Trie Language Model"


def model_path() -> Path:
    """The path of ``en-us.lm.bin`` inside the installed pocketsphinx package."""
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us" / "en-us.lm.bin"


def read_header(path: str | Path) -> tuple[int, tuple[int, ...]]:
    """The order and the n-gram counts stored at the start of a trie-format model.

    Args:
        path: the model file.

    Returns:
        ``(order, counts)``, e.g. ``(3, (72547, 2051547, 1669625))``.

    Raises:
        ValueError: if the file is not a Sphinx trie language model.
    """
    with open(path, "rb") as f:
        head = f.read(len(_MAGIC) + 1 + 4 * 8)
    if not head.startswith(_MAGIC) or len(head) < len(_MAGIC) + 1:
        raise ValueError(f"{path}: not a Sphinx trie language model (no {_MAGIC!r} header)")
    order = head[len(_MAGIC)]
    start = len(_MAGIC) + 1
    counts = struct.unpack(f"<{order}I", head[start : start + 4 * order])
    return order, counts


def read_vocabulary(path: str | Path) -> list[str]:
    """Every word of a trie-format model, in the stored order (``<s>`` included).

    Args:
        path: the model file.

    Raises:
        ValueError: if the vocabulary at the end of the file does not hold as many words as
            the header announces.
    """
    _, counts = read_header(path)
    data = Path(path).read_bytes()
    # The last block is a uint32 byte count followed by that many bytes of NUL-ended words.
    # Its start is the one place where the count equals the number of bytes that follow.
    for start in range(len(data) - 4, max(len(data) - 64 * counts[0] - 4, 0) - 1, -1):
        (size,) = struct.unpack_from("<I", data, start)
        if size == len(data) - start - 4 and data.endswith(b"\0"):
            words = data[start + 4 : -1].split(b"\0")
            if len(words) == counts[0]:
                return [w.decode("utf-8") for w in words]
    raise ValueError(f"{path}: no vocabulary of {counts[0]} words found at the end of the file")


@dataclass(eq=False)
class WordLM:
    """The PocketSphinx trigram model, scoring every next word of its vocabulary.

    Attributes:
        path: the model file.
        order: how many words a prediction depends on, the next one included (3).
        counts: the numbers of 1-, 2- and 3-grams the file stores.
        words: the possible next words, in the order of :meth:`logits` (the vocabulary
            without ``<s>``).
    """

    path: Path
    order: int
    counts: tuple[int, ...]
    words: tuple[str, ...]
    _model: NGramModel = field(repr=False)
    _logmath: LogMath = field(repr=False)
    _index: dict = field(repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    def history(self, context: str) -> list[str]:
        """The words of ``context`` that the model looks at: the last ``order - 1``.

        A context shorter than that is padded on the left with ``<s>``, as at the start
        of a sentence. Words are separated by white space and lowercased.

        Args:
            context: the text so far.

        Raises:
            ValueError: if one of those words is not in the vocabulary.
        """
        words = [SENTENCE_START] * (self.order - 1) + context.lower().split()
        used = words[len(words) - (self.order - 1) :]
        for w in used:
            if w != SENTENCE_START and w not in self._index:
                raise ValueError(f"the word {w!r} is not in the model's vocabulary")
        return used

    def logits(self, context: str) -> np.ndarray:
        """Ln P(w | context) for every word ``w`` of :attr:`words`, in nats.

        These log-probabilities are good logits: ``softmax(logits)`` gives the model's
        probabilities back, renormalised (the file stores them rounded, so their own sum
        is within about 0.001 of 1).

        Args:
            context: the text so far, e.g. ``"once upon a"``; only its last two words
                matter (see :meth:`history`).

        Returns:
            A read-only float64 array of shape ``(len(words),)``.
        """
        key = tuple(self.history(context))
        if key not in self._cache:
            h = list(reversed(key))  # prob() wants the word, then h1 (nearest), then h2
            to_ln = self._logmath.log_to_ln
            prob = self._model.prob
            z = np.fromiter(
                (to_ln(prob([w, *h])) for w in self.words), dtype=np.float64, count=len(self.words)
            )
            z.setflags(write=False)
            self._cache[key] = z
        return self._cache[key]

    def probabilities(self, context: str) -> np.ndarray:
        """softmax(logits(context)): the next-word distribution, summing to 1.

        Args:
            context: the text so far (see :meth:`logits`).
        """
        z = self.logits(context)
        e = np.exp(z - z.max())
        return e / e.sum()

    def index(self, word: str) -> int:
        """The position of ``word`` in :attr:`words` (and in the logits).

        Args:
            word: one of :attr:`words`.

        Raises:
            ValueError: if the word is not a possible next word.
        """
        try:
            return self._index[word]
        except KeyError:
            raise ValueError(f"the word {word!r} is not in the model's vocabulary") from None

    def top(self, context: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` likeliest next words after ``context`` with their probabilities.

        Equal probabilities keep the order of :attr:`words`.

        Args:
            context: the text so far (see :meth:`logits`).
            k: how many words.
        """
        p = self.probabilities(context)
        order = np.argsort(-p, kind="stable")[:k]
        return [(self.words[i], float(p[i])) for i in order]


@functools.lru_cache(maxsize=2)
def load(path: str | Path | None = None) -> WordLM:
    """Load the model (by default the one in the pocketsphinx package), once per path.

    Sets PocketSphinx's own log level to ``"ERROR"``, so that loading prints nothing.

    Args:
        path: the model file; None for the one in the pocketsphinx package.

    Raises:
        ValueError: if the file is not a Sphinx trie language model.
    """
    from pocketsphinx import Config, LogMath, NGramModel, set_loglevel

    path = model_path() if path is None else Path(path)
    order, counts = read_header(path)
    vocabulary = read_vocabulary(path)
    words = tuple(w for w in vocabulary if w != SENTENCE_START)
    set_loglevel("ERROR")
    logmath = LogMath()
    model = NGramModel(Config(), logmath, str(path))
    return WordLM(
        path=path,
        order=order,
        counts=counts,
        words=words,
        _model=model,
        _logmath=logmath,
        _index={w: i for i, w in enumerate(words)},
    )
