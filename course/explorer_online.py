"""Chapter 07's explorer: online softmax, one block at a time, with no kernel.

A row of scores is split into blocks. Stepping through the blocks shows the running maximum
``m``, the running sum ``s`` of ``exp(z - m)`` and the rescaling factor ``exp(m_old - m_new)``
applied to the old sum whenever the maximum grows; after the last block, ``m + log(s)``
equals the three-pass log-sum-exp and ``exp(z - m) / s`` the softmax. Every number is
computed here, in Python, when the book is built (:func:`online_steps`, unit-tested), and a
few lines of JavaScript only choose which of them to show. Built on the helpers and the
style of :mod:`course.explorers`.

For chapter 07, as a ``remove-input`` cell's last expression::

    from course.explorer_online import online_explorer

    online_explorer()   # 12 scores, blocks of 2, 3 or 5
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from course.explorers import _INIT, Explorer, _json, _new_id

#: The explorer's default row: 12 scores whose maximum grows several times from left to right.
DEFAULT_SCORES: tuple[float, ...] = (0.5, -1.2, 1.8, 0.3, 2.6, -0.4, 1.1, 3.4, 0.9, -2.0, 3.1, 1.5)

#: Block sizes offered by default (12 scores: 6, 4 and 3 blocks, the last one shorter for 5).
DEFAULT_BLOCK_SIZES: tuple[int, ...] = (2, 3, 5)


def online_steps(scores, block_size: int) -> dict:
    """The online log-sum-exp of ``scores``, block by block, as the explorer shows it.

    Args:
        scores: a finite 1-D row of scores.
        block_size: how many scores each block holds (the last block may hold fewer).

    Returns:
        ``{"steps": [...], "lse": L, "three_pass": L3, "softmax": [...]}``. Step ``k`` (one
        per block) holds ``start``, ``stop`` (the block's entries), ``block_max``,
        ``block_sum`` (the sum of ``exp(z - block_max)`` over the block), ``m_before``,
        ``s_before``, ``m``, ``s`` (the running partial after merging the block) and
        ``rescale``, the factor ``exp(m_before - m)`` that multiplies the old sum (1 when
        the maximum does not grow, 0 for the first block). ``lse`` is the final ``m + log(s)``,
        ``three_pass`` the textbook ``max + log(sum(exp(z - max)))``, ``softmax`` the final
        ``exp(z - m) / s``.
    """
    z = np.asarray(scores, dtype=np.float64)
    if z.ndim != 1 or z.size == 0 or not np.isfinite(z).all():
        raise ValueError("scores must be a non-empty, finite 1-D row")
    if int(block_size) != block_size or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    block_size = int(block_size)
    m, s = -np.inf, 0.0
    steps = []
    for start in range(0, z.size, block_size):
        block = z[start : start + block_size]
        block_max = float(block.max())
        block_sum = float(np.exp(block - block_max).sum())
        new_m = max(m, block_max)
        rescale = float(np.exp(m - new_m))  # exp(-inf) = 0 for the first block
        new_s = s * rescale + block_sum * float(np.exp(block_max - new_m))
        steps.append(
            {
                "start": start,
                "stop": start + block.size,
                "block_max": block_max,
                "block_sum": block_sum,
                "m_before": m,
                "s_before": s,
                "m": new_m,
                "s": new_s,
                "rescale": rescale,
            }
        )
        m, s = new_m, new_s
    top = float(z.max())
    three_pass = top + float(np.log(np.exp(z - top).sum()))
    return {
        "steps": steps,
        "lse": m + float(np.log(s)),
        "three_pass": three_pass,
        "softmax": [float(p) for p in np.exp(z - m) / s],
    }


def _num(x: float) -> str:
    """A number as the explorer prints it (the script formats the same way)."""
    return "−∞" if x == -np.inf else f"{x:.3f}"


def step_text(run: dict, k: int) -> str:
    """The readout after block ``k`` (0-based) of a run of :func:`online_steps`.

    Args:
        run: what :func:`online_steps` returned.
        k: the block's index.
    """
    step = run["steps"][k]
    n = len(run["steps"])
    head = (
        f"Block {k + 1} of {n} (entries {step['start']} to {step['stop'] - 1}): block max "
        f"{_num(step['block_max'])}, block sum {_num(step['block_sum'])}. "
    )
    if k == 0:
        body = (
            f"First block: running max m = {_num(step['m'])}, running sum s = {_num(step['s'])}. "
        )
    elif step["m"] > step["m_before"]:
        body = (
            f"The maximum grows from {_num(step['m_before'])} to {_num(step['m'])}: the old "
            f"sum {_num(step['s_before'])} is rescaled by exp({_num(step['m_before'])} − "
            f"{_num(step['m'])}) = {_num(step['rescale'])}, so s = {_num(step['s'])}. "
        )
    else:
        body = (
            f"The maximum stays {_num(step['m'])}: the block's sum is rescaled to it and "
            f"added, s = {_num(step['s'])}. "
        )
    lse = step["m"] + float(np.log(step["s"]))
    tail = f"So far m + log s = {_num(lse)}."
    if k == n - 1:
        tail = (
            f"All blocks read: m + log s = {_num(run['lse'])}; the three-pass form gives "
            f"{_num(run['three_pass'])}."
        )
    return head + body + tail


def _plain(value):
    """JSON-ready: -inf becomes null (JSON has no infinities); the script prints it as −∞."""
    if isinstance(value, float) and value == -np.inf:
        return None
    return value


def online_explorer(
    scores: Sequence[float] = DEFAULT_SCORES,
    block_sizes: Sequence[int] = DEFAULT_BLOCK_SIZES,
    *,
    initial: int | None = None,
    title: str = "Explore online softmax, block by block",
) -> Explorer:
    """Buttons that step through the blocks of a row: running max, running sum, rescaling.

    The row's scores are shown as a strip of cells (blocks already merged, the current block,
    blocks still to come); a table adds one line per block (its maximum and sum, the factor
    that rescales the old sum, the running ``m`` and ``s``), and the readout (``aria-live``)
    explains the step in words, ending on the comparison with the three-pass form. Radio
    buttons choose the block size. All numbers come from :func:`online_steps`.

    Args:
        scores: the row (finite, 1-D).
        block_sizes: the block sizes offered.
        initial: the block size selected at first (default: the first of ``block_sizes``).
        title: the explorer's heading.

    Returns:
        An :class:`~course.explorers.Explorer` (an :class:`IPython.display.HTML`).
    """
    z = [float(x) for x in scores]
    sizes = [int(b) for b in block_sizes]
    if not sizes:
        raise ValueError("block_sizes must name at least one block size")
    initial = sizes[0] if initial is None else int(initial)
    if initial not in sizes:
        raise ValueError(f"initial must be one of {sizes}, got {initial!r}")
    runs = {}
    for b in sizes:
        run = online_steps(z, b)
        runs[str(b)] = {
            "steps": [{key: _plain(val) for key, val in st.items()} for st in run["steps"]],
            "text": [step_text(run, k) for k in range(len(run["steps"]))],
            "lse": run["lse"],
            "three_pass": run["three_pass"],
        }
    data = _json({"scores": z, "initial": initial, "runs": runs})
    uid = _new_id("online", data)
    first = online_steps(z, initial)
    step0 = first["steps"][0]
    strip = "".join(
        f'<li class="sx-z" data-state="{"current" if i < step0["stop"] else "todo"}">'
        f"{value:.1f}<small>{i}</small></li>"
        for i, value in enumerate(z)
    )
    row0 = (
        f'<tr data-current="true"><td>1</td><td>{step0["start"]}–{step0["stop"] - 1}</td>'
        f"<td>{_num(step0['block_max'])}</td><td>{_num(step0['block_sum'])}</td>"
        f"<td>{_num(step0['rescale'])}</td><td>{_num(step0['m'])}</td>"
        f"<td>{_num(step0['s'])}</td></tr>"
    )
    radios = "".join(
        f'<label><input type="radio" name="{uid}-size" id="{uid}-b{b}" value="{b}"'
        f"{' checked' if b == initial else ''}> {b}</label>"
        for b in sizes
    )
    body = f"""<div class="sx-explorer sx-online" data-explorer="online" id="{uid}" data-step="0"
 data-block-size="{initial}">
<p class="sx-title" id="{uid}-title">{html.escape(title)}</p>
<p class="sx-help">A row of {len(z)} scores (index below each) read one block at a time. Step
through the blocks: the current block is outlined, merged blocks are shaded. Each step keeps
only two numbers, the running maximum m and the running sum s of exp(z − m).</p>
<fieldset><legend>Block size</legend>{radios}</fieldset>
<ol class="sx-strip" aria-label="the scores of the row">{strip}</ol>
<div class="sx-buttons"><button type="button" id="{uid}-prev" disabled>Previous block</button>
<button type="button" id="{uid}-next">Next block</button></div>
<output class="sx-readout" id="{uid}-out" aria-live="polite">{html.escape(step_text(first, 0))}</output>
<div class="sx-scroll"><table class="sx-steps" aria-labelledby="{uid}-title">
<thead><tr><th scope="col">block</th><th scope="col">entries</th><th scope="col">block max</th>
<th scope="col">block sum</th><th scope="col">rescale old s</th><th scope="col">m</th>
<th scope="col">s</th></tr></thead>
<tbody id="{uid}-rows">{row0}</tbody></table></div>
<script type="application/json" id="{uid}-data">{data}</script>
{_INIT}
</div>"""
    return Explorer(body)
