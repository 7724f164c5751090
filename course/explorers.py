"""Interactive explorers that need no kernel: a few lines of plain JavaScript on the page.

Each explorer is a piece of HTML (an :class:`Explorer`, i.e. an :class:`IPython.display.HTML`):
its numbers are computed in Python when the book is built and embedded as JSON (one
``<script type="application/json">`` per explorer), and one shared script redraws it when the
reader moves a control. The script and the stylesheet are real files,
``course/explorer_assets/explorers.js`` and ``explorers.css``, served once per page (see
:func:`page_assets`); their colours come from the theme's CSS variables, so the explorers
follow light and dark mode. Nothing is loaded from anywhere else, so the explorers work on
the static site, offline. Without JavaScript the reader still sees the explorer's initial
state, which is rendered in Python.

Every explorer has labelled controls, an ``aria-live`` readout, a layout that shrinks to
phone width, and element ids that are unique on the page (several explorers may share one).

Chapter 02, the temperature of a softmax over the course's character model::

    from course import charlm
    from course.explorers import temperature_explorer

    model = charlm.train(charlm.load_corpus())
    temperature_explorer(model.logits("th"), list(charlm.VOCAB), context="th")

Chapter 06, attention masks (in a ``remove-input`` cell, as the last expression)::

    from course.explorers import mask_explorer

    mask_explorer()   # 6 queries x 6 keys, a sequence of 4 tokens left-padded to 6

The numbers the pages show are also available in Python, for tests:
:func:`temperature_bars` for the temperature explorer and :func:`mask_weights` for the
mask explorer.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from IPython.display import HTML

#: The temperature explorer's default slider positions, a log scale from 0.05 to 10 that
#: holds T = 0.05, 1 and 10 exactly: 26 equal ratios from 0.05 to 1, then 20 from 1 to 10
#: (steps of about 12% either side).
DEFAULT_TEMPERATURES: tuple[float, ...] = (
    tuple(0.05 * 20.0 ** (k / 26) for k in range(26))
    + (1.0,)
    + tuple(10.0 ** (k / 20) for k in range(1, 21))
)

#: The mask explorer's modes, in the order of its radio buttons.
MASK_MODES: tuple[str, ...] = ("causal", "padding", "both")

_COUNTER = itertools.count(1)


# ----------------------------------------------------------------------------- numbers


def softmax_t(logits, temperature: float) -> np.ndarray:
    """softmax(logits / temperature), computed stably (the maximum is subtracted first).

    The explorer's script computes exactly this, in the same order of operations.

    Args:
        logits: the scores, a 1-D array or list.
        temperature: T, a positive number.

    Raises:
        ValueError: if ``temperature`` is not positive.
    """
    z = np.asarray(logits, dtype=np.float64)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    e = np.exp((z - z.max()) / temperature)
    return e / e.sum()


def entropy_nats(p) -> float:
    """The entropy of a distribution, in nats, with 0 log 0 = 0.

    Args:
        p: the probabilities.
    """
    p = np.asarray(p, dtype=np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


def top_indices(logits, top: int) -> list[int]:
    """The indices of the (at most) ``top`` largest logits, largest first.

    Dividing by a temperature keeps the order, so these are the likeliest options at every
    temperature. Ties stay together: when the cut would fall inside a group of equal
    logits, the whole group is left out (it goes to "other"), unless that would leave no
    option at all. Equal logits keep their order of index.

    Args:
        logits: the scores, a 1-D array or list.
        top: how many indices at most.
    """
    z = np.asarray(logits, dtype=np.float64)
    order = np.argsort(-z, kind="stable")
    k = min(int(top), len(z))
    while 0 < k < len(z) and z[order[k - 1]] == z[order[k]]:
        k -= 1
    if k == 0:
        k = min(int(top), len(z))
    return [int(i) for i in order[:k]]


def temperature_bars(logits, labels: Sequence[str], temperature: float, top: int = 12) -> dict:
    """What the temperature explorer shows at one temperature.

    Args:
        logits: the scores, a 1-D array or list.
        labels: the name of each option, in the order of ``logits``.
        temperature: T, a positive number.
        top: how many options to show by name (see :func:`top_indices`).

    Returns:
        ``{"labels": [...], "values": [...], "entropy": H}``: the ``top`` likeliest labels
        followed by ``"other"`` (the total of the rest, left out when nothing is left), their
        probabilities under ``softmax(logits / temperature)``, and the entropy of the full
        distribution in nats.
    """
    p = softmax_t(logits, temperature)
    idx = top_indices(logits, top)
    rest = np.setdiff1d(np.arange(len(p)), idx)
    names = [str(labels[i]) for i in idx]
    values = [float(p[i]) for i in idx]
    if len(rest):
        names.append("other")
        values.append(float(p[rest].sum()))
    return {"labels": names, "values": values, "entropy": entropy_nats(p)}


def stable_masked_softmax(scores, mask, axis: int = -1) -> np.ndarray:
    """Softmax over the allowed entries only (mask True = may attend).

    Masked entries get exactly 0; a row with no allowed entry is all zeros, never NaN.
    The maximum of each row's *allowed* scores is subtracted before exponentiating.

    Args:
        scores: the scores.
        mask: True where an entry may be attended to; broadcast to the shape of ``scores``.
        axis: the axis to normalise over.
    """
    s = np.asarray(scores, dtype=np.float64)
    m = np.broadcast_to(np.asarray(mask, dtype=bool), s.shape)
    any_allowed = m.any(axis=axis, keepdims=True)
    shift = np.where(any_allowed, np.max(np.where(m, s, -np.inf), axis=axis, keepdims=True), 0.0)
    with np.errstate(over="ignore"):  # a gap beyond the float range is -inf: exp gives 0
        gap = np.where(m, s, shift) - shift  # <= 0 where allowed, 0 where masked
    e = np.where(m, np.exp(gap), 0.0)
    total = e.sum(axis=axis, keepdims=True)
    return np.where(any_allowed, e / np.where(total > 0, total, 1.0), 0.0)


def mask_weights(
    n: int = 6, length: int = 4, padding_side: str = "left", seed: int = 6, scale: float = 1.5
) -> dict:
    """The mask explorer's example: one sequence of ``length`` tokens padded to ``n``.

    Args:
        n: number of positions (queries = keys = ``n``).
        length: number of real tokens; the other ``n - length`` positions are padding.
        padding_side: ``"left"`` (padding first, as when generating in batches: with the
            causal mask the first queries see only padding, so their rows are fully masked)
            or ``"right"`` (padding last).
        seed: seed of the NumPy generator that draws the scores.
        scale: the scores are standard normal times ``scale``.

    Returns:
        ``{"scores": (n, n) array, "real": (n,) bool array (True = a real token),
        "modes": {mode: {"mask": (n, n) bool, "weights": (n, n) float}}}`` for the modes
        ``"causal"``, ``"padding"`` (padded *keys* are hidden) and ``"both"``.
    """
    if not 0 <= length <= n:
        raise ValueError(f"length must be between 0 and n = {n}, got {length!r}")
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((n, n)) * scale
    pos = np.arange(n)
    real = pos >= n - length if padding_side == "left" else pos < length
    causal = pos[None, :] <= pos[:, None]
    padding = np.broadcast_to(real[None, :], (n, n))
    masks = {"causal": causal, "padding": padding, "both": causal & padding}
    return {
        "scores": scores,
        "real": real,
        "modes": {
            k: {"mask": np.array(m), "weights": stable_masked_softmax(scores, m)}
            for k, m in masks.items()
        },
    }


# ----------------------------------------------------------------------------- HTML helpers


def _new_id(kind: str, payload: str) -> str:
    """An element-id prefix unique on the page: the kind, a content hash and a counter."""
    digest = hashlib.sha1(payload.encode("utf-8")).hexdigest()[:6]
    return f"sx-{kind}-{digest}-{next(_COUNTER)}"


def _json(data) -> str:
    """JSON safe to put inside a <script> element."""
    return (
        json.dumps(data, separators=(",", ":"), allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


#: The explorers' stylesheet and script, real files shipped with the package.
ASSETS_DIR = Path(__file__).with_name("explorer_assets")

#: What each explorer puts after its markup: wire the explorers of the page (the script is
#: already on the page, see :func:`page_assets`).
_INIT = "<script>window.sxExplorers.init();</script>"

_assets_shown = False


def page_assets() -> str:
    """The ``<style>`` and ``<script>`` every page with explorers needs, once.

    Both are read from :data:`ASSETS_DIR` (``explorers.css`` and ``explorers.js``) and inlined,
    so a page works offline and from a single file.
    """
    css = (ASSETS_DIR / "explorers.css").read_text(encoding="utf-8")
    js = (ASSETS_DIR / "explorers.js").read_text(encoding="utf-8")
    if "</style" in css.lower() or "</script" in js.lower():
        raise ValueError("an explorer asset must not close its own element")
    return f"<style>\n{css}</style>\n<script>\n{js}</script>\n"


def standalone_page(*explorers: HTML | str, title: str = "Explorers") -> str:
    """A complete HTML document showing ``explorers``, with :func:`page_assets` once in its head.

    Args:
        *explorers: the explorers (or their HTML), in the order shown.
        title: the page's title.
    """
    parts = "\n".join(e.data if isinstance(e, HTML) else e for e in explorers)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>\n{page_assets()}</head><body>\n{parts}\n"
        f"</body></html>"
    )


class Explorer(HTML):
    """An explorer's HTML: ``.data`` is its own markup, its numbers and one line of script.

    The stylesheet and script that every explorer shares are served once per page: shown in
    a notebook or a book page (one kernel per page), the first explorer of the kernel carries
    :func:`page_assets` in front of its markup, and the others only their markup. A page put
    together by hand uses :func:`standalone_page`.
    """

    def _repr_html_(self) -> str:
        """The markup, preceded by :func:`page_assets` for the kernel's first explorer."""
        global _assets_shown
        if _assets_shown:
            return str(self.data)
        _assets_shown = True
        return page_assets() + str(self.data)


def _fmt_t(t: float) -> str:
    """A temperature as the script shows it (JavaScript's toPrecision(3))."""
    return f"{t:#.3g}"


# ----------------------------------------------------------------------------- temperature


def temperature_explorer(
    logits,
    labels: Sequence[str],
    temperatures: Sequence[float] = DEFAULT_TEMPERATURES,
    *,
    top: int = 12,
    initial: float = 1.0,
    context: str | None = None,
    title: str = "Explore the temperature",
) -> Explorer:
    """A slider for the temperature T over real logits, redrawing a bar chart of softmax(z / T).

    The bars show the (up to) ``top`` likeliest labels plus "other" (the rest together), on a
    common scale from 0 to 1; the readout (``aria-live``) gives T, the entropy in nats and
    the leader's probability. The script computes the probabilities from the embedded
    logits with a stable softmax, as :func:`softmax_t` does; :func:`temperature_bars` gives
    the same numbers in Python.

    Args:
        logits: the scores, one per label (finite).
        labels: the names of the options, e.g. ``list(charlm.VOCAB)``.
        temperatures: the slider's positions, increasing, all > 0 (by default a log scale
            from 0.05 to 10, see :data:`DEFAULT_TEMPERATURES`).
        top: how many of the likeliest labels get a bar of their own, at most (labels with
            equal logits are not split between a bar and "other", see :func:`top_indices`).
        initial: the slider starts at the listed temperature closest to this one.
        context: for a language model, the text the logits follow (shown in the help line).
        title: the explorer's heading.

    Returns:
        An :class:`Explorer` (an :class:`IPython.display.HTML`); make it a cell's last
        expression to show it.
    """
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1 or len(z) != len(labels) or not np.isfinite(z).all():
        raise ValueError("logits must be a finite 1-D array with one entry per label")
    temps = [float(t) for t in temperatures]
    if not temps or any(not t > 0 for t in temps) or sorted(temps) != temps:
        raise ValueError("temperatures must be increasing and > 0")
    top = max(1, min(int(top), len(z)))
    start = int(np.argmin(np.abs(np.log(temps) - np.log(initial))))
    idx = top_indices(z, top)
    payload = {
        "logits": [float(v) for v in z],
        "labels": [str(c) for c in labels],
        "temperatures": temps,
        "top": idx,
        "start": start,
    }
    data = _json(payload)
    uid = _new_id("temp", data)
    shown = temperature_bars(z, labels, temps[start], top)

    rows = []
    for k, (name, value) in enumerate(zip(shown["labels"], shown["values"], strict=True)):
        other = k == len(idx)
        lab = "other" if other else f"<code>{html.escape(name)}</code>"
        rows.append(
            f'<li class="sx-row{" sx-other" if other else ""}" data-label="{html.escape(name)}" '
            f'data-value="{value!r}"><span class="sx-lab">{lab}</span>'
            f'<span class="sx-track" aria-hidden="true"><span class="sx-bar" '
            f'style="width:{100 * value:.2f}%">'
            f'</span></span><span class="sx-val">{value:.3f}</span></li>'
        )
    t0 = temps[start]
    readout = (
        f"T = {_fmt_t(t0)}: entropy {shown['entropy']:.2f} nats (at most "
        f"{np.log(len(z)):.2f}); most likely {html.escape(str(labels[idx[0]]))} with "
        f"{shown['values'][0]:.3f}"
    )
    after = f" after <code>{html.escape(context)}</code>" if context is not None else ""
    n_other = len(z) - len(idx)
    help_line = (
        f"Probabilities of the next option{after}, softmax(z / T) of the model's real "
        f"logits: the {len(idx)} likeliest"
        + (f", then the other {n_other} together." if n_other else ".")
        + " Drag the slider (or use the arrow keys) to change T."
    )
    body = f"""<div class="sx-explorer sx-temperature" data-explorer="temperature" id="{uid}"
 data-temperature="{t0!r}">
<p class="sx-title" id="{uid}-title">{html.escape(title)}</p>
<p class="sx-help">{help_line}</p>
<label for="{uid}-t">Temperature T (log scale)</label>
<input type="range" id="{uid}-t" min="0" max="{len(temps) - 1}" step="1" value="{start}"
 aria-valuetext="T = {_fmt_t(t0)}" aria-describedby="{uid}-out">
<div class="sx-ends" aria-hidden="true"><span>{temps[0]:g} (cold)</span>
<span>{temps[-1]:g} (hot)</span></div>
<output class="sx-readout" id="{uid}-out" for="{uid}-t" aria-live="polite"
 data-entropy="{shown["entropy"]!r}" data-temperature="{t0!r}">{readout}</output>
<ul class="sx-bars" aria-labelledby="{uid}-title">
{chr(10).join(rows)}
</ul>
<script type="application/json" id="{uid}-data">{data}</script>
{_INIT}
</div>"""
    return Explorer(body)


# ----------------------------------------------------------------------------- masks


_MODE_TEXT = {
    "causal": "Causal: query i may attend to keys 0 to i.",
    "padding": "Padding: no query may attend to a padded key.",
    "both": "Both: causal and padding masks combined (logical and).",
}


def mask_explorer(
    n: int = 6,
    length: int = 4,
    padding_side: str = "left",
    seed: int = 6,
    *,
    initial: str = "causal",
    title: str = "Explore attention masks",
) -> Explorer:
    """Radio buttons causal / padding / both over a heatmap of attention weights.

    The example is one sequence of ``length`` real tokens padded to ``n`` positions (see
    :func:`mask_weights`), with random scores from a seeded generator. For each mode the
    weights are a masked softmax of the scores (mask True = may attend; masked cells get
    exactly 0, a fully masked row is all zeros), precomputed in Python and embedded as JSON.
    Masked cells are hatched grey and show 0; the last column holds each row's sum (1, or 0
    for a fully masked row). The readout (``aria-live``) names the mode and counts the fully
    masked rows.

    For chapter 06, as a ``remove-input`` cell's last expression::

        from course.explorers import mask_explorer
        mask_explorer()   # 6 x 6, a sequence of 4 tokens with 2 padding positions on the left

    With left padding and the causal mask the first two queries see only padding, so "both"
    shows two fully masked rows.

    Args:
        n: the number of positions (queries and keys).
        length: how many of them are real tokens; the rest is padding.
        padding_side: ``"left"`` or ``"right"``, where the padding goes.
        seed: the seed of the random scores.
        initial: the mode selected at first, one of :data:`MASK_MODES`.
        title: the explorer's heading.

    Returns:
        An :class:`Explorer` (an :class:`IPython.display.HTML`).
    """
    if initial not in MASK_MODES:
        raise ValueError(f"initial must be one of {MASK_MODES}, got {initial!r}")
    ex = mask_weights(n, length, padding_side, seed)
    payload = {
        "n": n,
        "length": length,
        "padding_side": padding_side,
        "seed": seed,
        "real": [bool(r) for r in ex["real"]],
        "text": _MODE_TEXT,
        "modes": {
            k: {
                "mask": v["mask"].tolist(),
                "weights": [[float(w) for w in row] for row in v["weights"]],
            }
            for k, v in ex["modes"].items()
        },
    }
    data = _json(payload)
    uid = _new_id("mask", data)
    first = ex["modes"][initial]
    real = ex["real"]

    def pos_label(j):
        return f"{j}" if real[j] else f"{j} pad"

    head = "".join(f'<th scope="col">{pos_label(j)}</th>' for j in range(n))
    body_rows = []
    for i in range(n):
        tds = []
        for j in range(n):
            w, ok = float(first["weights"][i, j]), bool(first["mask"][i, j])
            if ok:
                style = f' style="--w:{w!r}"'  # the stylesheet's heat scale at w
                text, aria = f"{w:.2f}", f"{w:.2f}"
            else:
                style, text, aria = "", "0", "masked, 0"
            tds.append(
                f'<td class="sx-cell{"" if ok else " sx-masked"}" data-weight="{w!r}" '
                f'data-masked="{"false" if ok else "true"}" '
                f'aria-label="query {i}, key {j}: {aria}"{style}>{text}</td>'
            )
        s = float(first["weights"][i].sum())
        any_ok = bool(first["mask"][i].any())
        tds.append(f'<td class="sx-sum" data-sum="{s!r}">{f"{s:.2f}" if any_ok else "0"}</td>')
        body_rows.append(f'<tr><th scope="row">{pos_label(i)}</th>{"".join(tds)}</tr>')
    empty = int((~first["mask"].any(axis=1)).sum())
    readout = (
        _MODE_TEXT[initial]
        + " "
        + (
            f"{empty} of {n} query rows are fully masked: all their weights are 0."
            if empty
            else "No row is fully masked: every row sums to 1."
        )
    )
    radios = "".join(
        f'<label><input type="radio" name="{uid}-mode" id="{uid}-{m}" value="{m}"'
        f"{' checked' if m == initial else ''}> {m}</label>"
        for m in MASK_MODES
    )
    side = "left (padding first)" if padding_side == "left" else "right (padding last)"
    body = f"""<div class="sx-explorer sx-mask" data-explorer="mask" id="{uid}"
 data-mode="{initial}">
<p class="sx-title" id="{uid}-title">{html.escape(title)}</p>
<p class="sx-help">Attention weights of {n} queries (rows) over {n} keys (columns) for one
sequence of {length} tokens padded on the {side} to {n} positions; the scores are random.
Choose a mask: masked cells are hatched and get weight exactly 0, and a row with no allowed
key is all zeros.</p>
<fieldset><legend>Mask</legend>{radios}</fieldset>
<output class="sx-readout" id="{uid}-out" aria-live="polite">{readout}</output>
<div class="sx-scroll"><table class="sx-heat" aria-labelledby="{uid}-title">
<thead><tr><th scope="col">query \\ key</th>{head}<th scope="col">row sum</th></tr></thead>
<tbody>
{chr(10).join(body_rows)}
</tbody></table></div>
<p class="sx-help">Colour:<span class="sx-key sx-key-lo"></span>weight 0,<span
 class="sx-key sx-key-hi"></span>weight 1,<span class="sx-key sx-key-masked"></span>masked
(weight 0).</p>
<script type="application/json" id="{uid}-data">{data}</script>
{_INIT}
</div>"""
    return Explorer(body)
