"""Two more kernel-less explorers for chapter 02: real next-word contexts, and hand-tuned logits.

Like those of :mod:`course.explorers` (whose page layout they share), each is one piece of
HTML with its numbers embedded as JSON, driven by the shared script in
``course/explorer_assets``; nothing is fetched, and
without JavaScript the reader still sees the initial state, rendered in Python.

- :func:`context_explorer`: a menu of contexts and a temperature slider over a real
  language model's next-word distributions (72,546 words for :mod:`course.wordlm`). A
  vocabulary that large is not embedded: for every context and every slider position the
  bars, the entropy and the size of the top-p nucleus are computed when the book is built
  (:func:`context_views`), and the script only shows them.
- :func:`logits_inspector`: a few logits the reader edits, and a temperature; the script
  recomputes the probabilities, the odds against the leader and the entropy at once, as
  :func:`inspect_logits` does in Python.

Example (in a ``remove-input`` cell, as the last expression)::

    from course import wordlm
    from course.temperature_explorers import context_explorer, logits_inspector

    lm = wordlm.load()
    context_explorer({c: lm.logits(c) for c in ("once upon a", "the united")}, lm.words)
    logits_inspector([2.0, 1.0, 0.1], ["cat", "dog", "fish"])
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np

from course.explorers import (
    _INIT,
    DEFAULT_TEMPERATURES,
    Explorer,
    _fmt_t,
    _json,
    _new_id,
    entropy_nats,
    softmax_t,
    top_indices,
)

# ----------------------------------------------------------------------------- numbers


def nucleus_size(p, top_p: float) -> int:
    """How many options top-p (nucleus) filtering keeps for the probabilities ``p``.

    Option i is kept iff the options strictly more probable than it have total probability
    below ``top_p`` (the course contract's rule: the most probable option always stays, and
    ties stay together).

    Args:
        p: the probabilities of the options.
        top_p: the nucleus threshold, in (0, 1].

    Raises:
        ValueError: if ``top_p`` is not in (0, 1].
    """
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    q = np.sort(np.asarray(p, dtype=np.float64))[::-1]
    above = np.concatenate([[0.0], np.cumsum(q)[:-1]])
    first = np.searchsorted(q[::-1], q, side="right")  # how many are <= each value
    above_strict = above[len(q) - first]  # mass of the options strictly above each value
    return int(np.count_nonzero(above_strict < top_p))


def context_views(
    contexts: Mapping[str, Sequence[float]],
    words: Sequence[str],
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    *,
    top: int = 10,
    top_p: float = 0.9,
) -> dict:
    """What :func:`context_explorer` shows, for every context and every temperature.

    Args:
        contexts: context text -> its next-word logits (one per word, finite).
        words: the vocabulary, in the order of the logits.
        temperatures: the slider's positions (increasing, > 0).
        top: how many of the likeliest words get a bar of their own, at most (ties are not
            split, see :func:`course.explorers.top_indices`).
        top_p: the nucleus whose size is reported.

    Returns:
        ``{context: {"labels": [...], "values": [[...] one list per temperature],
        "entropy": [...], "nucleus": [...]}}``: the top words and ``"other"``, their
        probabilities under ``softmax(logits / T)``, the entropy in nats of the whole
        distribution and the number of words the top-p nucleus keeps, per temperature.
    """
    out = {}
    for text, logits in contexts.items():
        z = np.asarray(logits, dtype=np.float64)
        if z.ndim != 1 or len(z) != len(words) or not np.isfinite(z).all():
            raise ValueError(f"the logits of {text!r} must be finite, one per word")
        idx = top_indices(z, top)
        rest = np.ones(len(z), bool)
        rest[idx] = False
        values, entropy, nucleus = [], [], []
        for t in temperatures:
            p = softmax_t(z, t)
            values.append([float(p[i]) for i in idx] + [float(p[rest].sum())])
            entropy.append(entropy_nats(p))
            nucleus.append(nucleus_size(p, top_p))
        out[text] = {
            "labels": [str(words[i]) for i in idx] + ["other"],
            "values": values,
            "entropy": entropy,
            "nucleus": nucleus,
        }
    return out


def inspect_logits(logits, temperature: float) -> dict:
    """What :func:`logits_inspector` shows for the logits and the temperature.

    Args:
        logits: the scores, a 1-D array or list.
        temperature: T, a positive number.

    Returns:
        ``{"probabilities": [...], "odds": [...], "entropy": H}``: ``softmax(z / T)``, the
        odds of each option against the likeliest one, ``p_i / p_max = exp((z_i - max z) / T)``,
        and the entropy in nats.
    """
    z = np.asarray(logits, dtype=np.float64)
    p = softmax_t(z, temperature)
    odds = np.exp((z - z.max()) / temperature)
    return {
        "probabilities": [float(v) for v in p],
        "odds": [float(v) for v in odds],
        "entropy": entropy_nats(p),
    }


# ----------------------------------------------------------------------------- HTML helpers


def _checked(temperatures: Sequence[float]) -> list[float]:
    """The slider's temperatures as floats, refused unless increasing and all > 0."""
    temps = [float(t) for t in temperatures]
    if not temps or any(not t > 0 for t in temps) or sorted(temps) != temps:
        raise ValueError("temperatures must be increasing and > 0")
    return temps


def _closest(temps: Sequence[float], initial: float) -> int:
    """The slider position whose temperature is closest to ``initial`` on a log scale."""
    return int(np.argmin(np.abs(np.log(temps) - np.log(initial))))


def _slider(uid: str, temps: Sequence[float], start: int) -> str:
    """A labelled log-scale temperature slider, its element id ``{uid}-t``."""
    return f"""<label for="{uid}-t">Temperature T (log scale)</label>
<input type="range" id="{uid}-t" min="0" max="{len(temps) - 1}" step="1" value="{start}"
 aria-valuetext="T = {_fmt_t(temps[start])}" aria-describedby="{uid}-out">
<div class="sx-ends" aria-hidden="true"><span>{temps[0]:g} (cold)</span>
<span>{temps[-1]:g} (hot)</span></div>"""


# ----------------------------------------------------------------------------- contexts


def _context_readout(ctx: str, t: float, h: float, nucleus: int, top_p: float, n: int) -> str:
    """The readout's text, exactly as the script writes it."""
    return (
        f"After \u201c{ctx}\u201d at T = {_fmt_t(t)}: entropy {h:.2f} nats (about "
        f"{round(float(np.exp(h))):,} equally likely words); top-p with p = {top_p:g} "
        f"keeps {nucleus:,} of {n:,} words."
    )


def context_explorer(
    contexts: Mapping[str, Sequence[float]],
    words: Sequence[str],
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    *,
    top: int = 10,
    top_p: float = 0.9,
    initial: float = 1.0,
    title: str = "Explore the temperature of a real language model",
) -> Explorer:
    """A context menu and a temperature slider over precomputed next-word distributions.

    The bars show the (up to) ``top`` likeliest words and "other" on a common scale from 0
    to 1; the readout (``aria-live``) gives the entropy, its effective number of words and
    the size of the top-p nucleus. Every number comes from :func:`context_views`.

    Args:
        contexts: context text -> next-word logits, in menu order (the first is shown first).
        words: the vocabulary, in the order of the logits.
        temperatures: the slider's positions (increasing, > 0).
        top: bars per context, at most.
        top_p: the nucleus whose size the readout reports.
        initial: the slider starts at the listed temperature closest to this one.
        title: the explorer's heading.

    Returns:
        An :class:`~course.explorers.Explorer` (an :class:`IPython.display.HTML`); make it a
        cell's last expression to show it.
    """
    temps = _checked(temperatures)
    if not contexts:
        raise ValueError("give at least one context")
    views = context_views(contexts, words, temps, top=top, top_p=top_p)
    names = list(views)
    start = _closest(temps, initial)
    payload = {
        "contexts": names,
        "temperatures": temps,
        "views": views,
        "top_p": top_p,
        "n": len(words),
        "start": start,
    }
    data = _json(payload)
    uid = _new_id("ctx", data)
    first = views[names[0]]
    n_rows = max(len(v["labels"]) for v in views.values())
    rows = []
    for j in range(n_rows):
        used = j < len(first["labels"])
        label = first["labels"][j] if used else ""
        value = first["values"][start][j] if used else 0.0
        other = used and j == len(first["labels"]) - 1
        rows.append(
            f'<li class="sx-row{" sx-other" if other else ""}"{"" if used else " hidden"} '
            f'data-label="{html.escape(label)}" data-value="{value!r}">'
            f'<span class="sx-lab">{html.escape(label)}</span>'
            f'<span class="sx-track" aria-hidden="true"><span class="sx-bar" '
            f'style="width:{100 * value:.2f}%"></span></span>'
            f'<span class="sx-val">{value:.3f}</span></li>'
        )
    options = "".join(
        f'<option value="{k}"{" selected" if k == 0 else ""}>{html.escape(c)} \u2026</option>'
        for k, c in enumerate(names)
    )
    t0 = temps[start]
    readout = _context_readout(
        names[0], t0, first["entropy"][start], first["nucleus"][start], top_p, len(words)
    )
    body = f"""<div class="sx-explorer sx-contexts" data-explorer="context-temperature" id="{uid}"
 data-temperature="{t0!r}" data-context="{html.escape(names[0])}">
<p class="sx-title" id="{uid}-title">{html.escape(title)}</p>
<p class="sx-help">Next-word probabilities softmax(z / T) of a real trigram model of English,
for a context you choose: the {top} likeliest of its {len(words):,} words, then all the others
together. Choose a context, then drag the slider (or use the arrow keys) to change T.</p>
<div class="sx-ctl"><label for="{uid}-c">Context</label>
<select id="{uid}-c">{options}</select></div>
{_slider(uid, temps, start)}
<output class="sx-readout" id="{uid}-out" for="{uid}-t {uid}-c" aria-live="polite"
 data-entropy="{first["entropy"][start]!r}" data-nucleus="{first["nucleus"][start]}">{readout}</output>
<ul class="sx-bars" aria-labelledby="{uid}-title">
{chr(10).join(rows)}
</ul>
<script type="application/json" id="{uid}-data">{data}</script>
{_INIT}
</div>"""
    return Explorer(body)


# ----------------------------------------------------------------------------- logits


def _odds_text(o: float) -> str:
    """The odds as the script shows them (toPrecision(3), or toExponential(1) below 0.001)."""
    if o >= 0.001:
        return f"{o:#.3g}".rstrip(".")
    mantissa, exponent = f"{o:.1e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


def logits_inspector(
    logits: Sequence[float],
    labels: Sequence[str],
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    *,
    initial: float = 1.0,
    title: str = "Inspect hand-tuned logits",
) -> Explorer:
    """Editable logits and a temperature slider; probabilities, odds and entropy follow.

    Each option has a number box for its logit. The table shows ``softmax(z / T)`` as
    numbers and bars, and the odds against the leader, ``exp((z_i - max z) / T)``; the
    readout (``aria-live``) gives the entropy. The script computes what
    :func:`inspect_logits` computes, with the maximum subtracted first.

    Args:
        logits: the starting logits (finite), one per label.
        labels: the names of the options.
        temperatures: the slider's positions (increasing, > 0).
        initial: the slider starts at the listed temperature closest to this one.
        title: the explorer's heading.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or len(z) != len(labels) or len(z) < 2 or not np.isfinite(z).all():
        raise ValueError("logits must be a finite 1-D array with one entry per label (2 or more)")
    temps = _checked(temperatures)
    start = _closest(temps, initial)
    payload = {
        "logits": [float(v) for v in z],
        "labels": [str(c) for c in labels],
        "temperatures": temps,
        "start": start,
    }
    data = _json(payload)
    uid = _new_id("logits", data)
    t0 = temps[start]
    shown = inspect_logits(z, t0)
    rows = []
    for i, (name, v) in enumerate(zip(labels, z, strict=True)):
        p, o = shown["probabilities"][i], shown["odds"][i]
        rows.append(
            f'<tr class="sx-opt" data-p="{p!r}" data-odds="{o!r}">'
            f'<td><label for="{uid}-z{i}">{html.escape(str(name))}</label></td>'
            f'<td><input type="number" id="{uid}-z{i}" step="0.1" value="{v:g}" '
            f'inputmode="decimal"></td>'
            f'<td class="sx-p">{p:.3f}</td><td class="sx-pbar"><span class="sx-track" '
            f'style="display:block"><span class="sx-bar" style="width:{100 * p:.2f}%">'
            f'</span></span></td><td class="sx-odds">{_odds_text(o)}</td></tr>'
        )
    lead = int(np.argmax(z))
    readout = (
        f"T = {_fmt_t(t0)}: entropy {shown['entropy']:.3f} nats (at most "
        f"{np.log(len(z)):.3f}); the leader, {html.escape(str(labels[lead]))}, has "
        f"{shown['probabilities'][lead]:.3f}."
    )
    body = f"""<div class="sx-explorer sx-logits-inspector" data-explorer="logits" id="{uid}"
 data-temperature="{t0!r}">
<p class="sx-title" id="{uid}-title">{html.escape(title)}</p>
<p class="sx-help">Edit the logits z and move the temperature T: the probabilities
softmax(z / T), the odds of each option against the likeliest one, e<sup>(z<sub>i</sub> &minus;
max z) / T</sup>, and the entropy follow at once.</p>
{_slider(uid, temps, start)}
<output class="sx-readout" id="{uid}-out" aria-live="polite"
 data-entropy="{shown["entropy"]!r}">{readout}</output>
<div class="sx-scroll"><table class="sx-logits" aria-labelledby="{uid}-title">
<thead><tr><th scope="col">option</th><th scope="col">logit z</th>
<th scope="col">probability</th><th scope="col"><span aria-hidden="true"></span></th>
<th scope="col">odds vs leader</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></div>
<script type="application/json" id="{uid}-data">{data}</script>
{_INIT}
</div>"""
    return Explorer(body)
