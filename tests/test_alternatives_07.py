"""Chapter 07: correct answers written another way get full marks.

The memory and tolerance rules must not take a point from a student who merges in float32,
uses scipy per block, looks the target logits up directly, or normalises FlashAttention's
output at every block as the first paper does."""

import pytest

from conftest import grade_in_process

ASSIGNMENT = "07-softmax-at-scale"

ALTERNATIVES = {
    "merge with logaddexp, online_logsumexp with scipy per block, in the blocks' dtype": {
        "merge_partials": """
def merge_partials(m_a, s_a, m_b, s_b):
    arrays = [np.asarray(x) for x in (m_a, s_a, m_b, s_b)]
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays) else np.float64
    m_a, s_a, m_b, s_b = (a.astype(dtype) for a in arrays)
    m = np.maximum(m_a, m_b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        total = np.logaddexp(m_a + np.log(s_a), m_b + np.log(s_b))
        s = np.where(np.isneginf(m), dtype(0), np.exp(total - m))
    return m, s.astype(dtype)
""",
        "online_logsumexp": """
def online_logsumexp(blocks):
    total, dtype = None, np.float64
    for i, block in enumerate(blocks):
        b = np.asarray(block)
        if b.ndim != 1:
            raise ValueError("each block must be 1-D")
        dtype = b.dtype if (i == 0 or dtype == np.float32) and b.dtype == np.float32 else np.float64
        if b.size == 0:
            continue
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lse = scipy.special.logsumexp(b)
            total = lse if total is None else np.logaddexp(total, lse)
    return np.asarray(-np.inf if total is None else total, dtype=dtype)[()]
""",
    },
    "target logits from weight[targets], the gradient's chunks in float64": {
        "chunked_cross_entropy": """
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden, dtype=float), np.asarray(weight, dtype=float), np.asarray(targets)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1] or y.shape != (len(h),):
        raise ValueError("shapes do not fit")
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= len(w):
        raise ValueError("targets must be integers in [0, V)")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    lse = np.full(len(h), -np.inf)
    for start in range(0, len(w), chunk_size):
        lse = np.logaddexp(lse, scipy.special.logsumexp(h @ w[start:start + chunk_size].T, axis=1))
    picked = np.einsum("nd,nd->n", h, w[y])
    return float(np.mean(lse - picked))
""",
        "chunked_cross_entropy_grad": """
def chunked_cross_entropy_grad(hidden, weight, targets, chunk_size=1024):
    h0, w0, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    out = np.float32 if h0.dtype == np.float32 and w0.dtype == np.float32 else np.float64
    h, w = h0.astype(float), w0.astype(float)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1] or y.shape != (len(h),):
        raise ValueError("shapes do not fit")
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= len(w):
        raise ValueError("targets must be integers in [0, V)")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    lse = np.full(len(h), -np.inf)
    for start in range(0, len(w), chunk_size):
        lse = np.logaddexp(lse, scipy.special.logsumexp(h @ w[start:start + chunk_size].T, axis=1))
    gh, gw = np.zeros_like(h), np.zeros_like(w)
    for start in range(0, len(w), chunk_size):
        stop = min(start + chunk_size, len(w))
        p = np.exp(h @ w[start:stop].T - lse[:, None])
        for n in np.flatnonzero((y >= start) & (y < stop)):
            p[n, y[n] - start] -= 1.0
        p /= len(h)
        gh += p @ w[start:stop]
        gw[start:stop] = p.T @ h
    return gh.astype(out), gw.astype(out)
""",
    },
    "flash attention that keeps its output normalised at every block": {
        "flash_attention": """
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError("q, k and v do not fit")
    if int(block_size) != block_size or block_size < 1:
        raise ValueError("block_size must be a positive integer")
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    lq, lk = q.shape[-2], k.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise ValueError("the mask must be boolean")
        mask = np.broadcast_to(mask, batch + (lq, lk))
    scale = dtype(1 / math.sqrt(q.shape[-1]))
    m = np.full(batch + (lq, 1), -np.inf, dtype)
    l = np.zeros(batch + (lq, 1), dtype)
    o = np.zeros(batch + (lq, v.shape[-1]), dtype)
    for start in range(0, lk, block_size):
        s = (q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2)) * scale
        if mask is not None:
            s[~mask[..., start:start + block_size]] = -np.inf
        m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
        safe = np.where(np.isneginf(m_new), 0, m_new)
        p = np.exp(s - safe)
        l_new = np.exp(m - safe) * l + p.sum(axis=-1, keepdims=True)
        keep = np.where(l_new > 0, l_new, 1)
        o = (l * np.exp(m - safe) * o + p @ v[..., start:start + block_size, :]) / keep
        m, l = m_new, l_new
    return o
"""
    },
}


@pytest.mark.parametrize("name", list(ALTERNATIVES))
def test_correct_alternative_gets_full_marks(assignments, tmp_path, name):
    result = grade_in_process(assignments, tmp_path, ASSIGNMENT, replacements=ALTERNATIVES[name])
    failed = {t.grade_id: t.message for t in result.tests if not t.passed}
    assert not failed, failed
    assert result.score == result.max_score
