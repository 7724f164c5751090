"""Chapter 06: correct answers in other styles; each must get full marks (test_variants.py)."""

ASSIGNMENT = "06-attention-masking"

VARIANTS = [
    dict(
        name="causal_mask with np.tril and its own ValueError subclass",
        cell="causal_mask",
        code="""
class LengthError(ValueError):
    pass


def causal_mask(n):
    if n < 1:
        raise LengthError(f"n must be at least 1, got {n}")
    return np.tril(np.ones((n, n), dtype=bool))
""",
    ),
    dict(
        name="causal_mask as a double loop",
        cell="causal_mask",
        code="""
def causal_mask(n):
    if n < 1:
        raise ValueError("the sequence length must be positive")
    mask = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1):
            mask[i, j] = True
    return mask
""",
    ),
    dict(
        name="causal_mask with np.greater_equal.outer",
        cell="causal_mask",
        code="""
def causal_mask(n):
    if not n >= 1:
        raise ValueError(f"causal_mask({n}): n < 1")
    idx = np.arange(n)
    return np.greater_equal.outer(idx, idx)
""",
    ),
    dict(
        name="padding_mask as a loop filling rows",
        cell="padding_mask",
        code="""
def padding_mask(lengths, n):
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError("lengths must be a 1-D sequence")
    mask = np.zeros((len(lengths), n), dtype=bool)
    for b, length in enumerate(lengths.tolist()):
        if not 0 <= length <= n:
            raise ValueError(f"length {length} is outside [0, {n}]")
        mask[b, :length] = True
    return mask
""",
    ),
    dict(
        name="padding_mask with np.less.outer and its own ValueError subclass",
        cell="padding_mask",
        code="""
class PaddingError(ValueError):
    pass


def padding_mask(lengths, n):
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or (lengths.size and (lengths.min() < 0 or lengths.max() > n)):
        raise PaddingError(f"lengths must be 1-D values in [0, {n}], got {lengths.tolist()}")
    return np.less.outer(np.arange(n), lengths).T
""",
    ),
    dict(
        name="padding_mask by comparing a broadcast arange",
        cell="padding_mask",
        code="""
def padding_mask(lengths, n):
    lengths = np.array(lengths, ndmin=1)
    if lengths.ndim > 1:
        raise ValueError(f"lengths has shape {lengths.shape}, expected (B,)")
    if ((lengths < 0) | (lengths > n)).any():
        raise ValueError("every length must be between 0 and n")
    return np.broadcast_to(np.arange(n), (len(lengths), n)) < lengths.reshape(-1, 1)
""",
    ),
    dict(
        name="masked_softmax with scipy.special.softmax and its own ValueError subclass",
        cell="masked_softmax",
        code="""
class MaskError(ValueError):
    pass


def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    scores = scores if scores.dtype == np.float32 else scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise MaskError(f"the mask must be boolean, got {mask.dtype}")
    try:
        shape = np.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        raise MaskError(f"mask {mask.shape} does not broadcast to scores {scores.shape}") from None
    if shape != scores.shape:
        raise MaskError(f"mask {mask.shape} would broadcast the scores {scores.shape} up to {shape}")
    mask = np.broadcast_to(mask, scores.shape)
    alive = mask.any(axis=axis, keepdims=True)
    filled = np.where(mask, scores, -np.inf)
    filled = np.where(alive, filled, 0)  # fully masked slices: an ordinary row, zeroed below
    return np.where(mask, scipy.special.softmax(filled, axis=axis), 0).astype(scores.dtype)
""",
    ),
    dict(
        name="masked_softmax in log space with logsumexp over the unmasked entries",
        cell="masked_softmax",
        code="""
def masked_softmax(scores, mask, axis=-1):
    s = np.asarray(scores)
    s = s if s.dtype == np.float32 else s.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool or np.broadcast_shapes(mask.shape, s.shape) != s.shape:
        raise ValueError(f"need a bool mask that broadcasts to {s.shape}, got {mask.dtype} {mask.shape}")
    mask = np.broadcast_to(mask, s.shape)
    alive = mask.any(axis=axis, keepdims=True)
    filled = np.where(mask, s, -np.inf)
    m = np.where(alive, filled.max(axis=axis, keepdims=True), 0)
    shifted = filled - m
    lse = np.log(np.where(alive, np.exp(shifted).sum(axis=axis, keepdims=True), 1))
    return np.where(mask & alive, np.exp(shifted - lse), 0).astype(s.dtype)
""",
    ),
    dict(
        name="masked_softmax as a loop over the slices",
        cell="masked_softmax",
        code="""
def masked_softmax(scores, mask, axis=-1):
    s = np.asarray(scores)
    dtype = np.float32 if s.dtype == np.float32 else np.float64
    s = s.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be an array of booleans")
    try:
        full = np.broadcast_to(mask, s.shape)
    except ValueError:
        raise ValueError(f"mask of shape {mask.shape} cannot broadcast to {s.shape}") from None
    sm, mm = np.moveaxis(s, axis, -1), np.moveaxis(full, axis, -1)
    out = np.zeros(sm.shape)
    for index in np.ndindex(sm.shape[:-1]):
        keep = mm[index]
        if keep.any():
            row = sm[index][keep]
            e = np.exp(row - row.max())
            out[index + (keep,)] = e / e.sum()
    return np.moveaxis(out, -1, axis).astype(dtype)
""",
    ),
    dict(
        name="masked_softmax in float32-native arithmetic with a zero-safe division",
        cell="masked_softmax",
        code="""
def masked_softmax(scores, mask, axis=-1):
    s = np.asarray(scores)
    if s.dtype != np.float32:
        s = s.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    if mask.ndim > s.ndim or any(a not in (1, b) for a, b in zip(mask.shape[::-1], s.shape[::-1])):
        raise ValueError(f"mask {mask.shape} does not broadcast to scores {s.shape}")
    filled = np.where(mask, s, np.array(-np.inf, dtype=s.dtype))
    m = filled.max(axis=axis, keepdims=True)
    e = np.exp(filled - np.where(m == -np.inf, np.zeros((), s.dtype), m))
    total = e.sum(axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)
""",
    ),
    dict(
        name="attention with einsum and its own ValueError subclass",
        cell="scaled_dot_product_attention",
        code="""
class AttentionShapeError(ValueError):
    pass


def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if all(x.dtype == np.float32 for x in (q, k, v)) else np.float64
    q, k, v = (x.astype(dtype) for x in (q, k, v))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise AttentionShapeError("q, k and v must have at least 2 axes")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise AttentionShapeError(f"shapes do not fit: q {q.shape}, k {k.shape}, v {v.shape}")
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise AttentionShapeError("the batch axes do not broadcast") from None
    scores = np.einsum("...id,...jd->...ij", q, k) / dtype(np.sqrt(q.shape[-1]))
    weights = masked_softmax(scores, np.ones((), dtype=bool) if mask is None else mask)
    return np.einsum("...ij,...jd->...id", weights, v), weights
""",
    ),
    dict(
        name="attention with its own masked softmax (np.where, swapaxes)",
        cell="scaled_dot_product_attention",
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(x) for x in (q, k, v))
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q {q.shape}, k {k.shape} and v {v.shape} do not fit together")
    np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])  # raises ValueError itself
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) * dtype(1 / np.sqrt(q.shape[-1]))
    if mask is None:
        mask = np.ones(scores.shape[-2:], dtype=bool)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"mask must be boolean, got {mask.dtype}")
    if np.broadcast_shapes(mask.shape, scores.shape) != scores.shape:
        raise ValueError(f"mask {mask.shape} does not broadcast to the scores {scores.shape}")
    filled = np.where(mask, scores, -np.inf)
    m = filled.max(axis=-1, keepdims=True)
    e = np.exp(filled - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=-1, keepdims=True)
    weights = (e / np.where(total > 0, total, 1)).astype(dtype)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention that scales q first and loops over the queries",
        cell="scaled_dot_product_attention",
        code="""
import math

def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError("q, k, v need shape (..., L, d)")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError("q and k need the same d, k and v the same number of keys")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError as exc:
        raise ValueError(f"batch axes do not broadcast: {exc}") from None
    lq, lk = q.shape[-2], k.shape[-2]
    qs = q / dtype(math.sqrt(q.shape[-1]))
    scores = np.stack([qs[..., i, :][..., None, :] @ np.swapaxes(k, -1, -2) for i in range(lq)], axis=-3)
    scores = scores.reshape(np.broadcast_shapes(batch, q.shape[:-2]) + (lq, lk))
    weights = masked_softmax(scores, True if mask is None else mask)
    return weights @ v, weights
""",
    ),
]
