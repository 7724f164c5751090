"""Chapter 06: wrong answers students really write, and the tests that must catch them.

Each entry replaces one solution cell (``cell`` is its grade_id) of an otherwise
correct submission; ``catches`` names the tests that must then fail.
"""

ASSIGNMENT = "06-attention-masking"

MISTAKES = [
    # ---- causal_mask -------------------------------------------------------------------
    dict(
        name="causal_mask excludes the diagonal (j < i)",
        cell="causal_mask",
        catches={"test_causal_mask_values"},
        code="""
def causal_mask(n):
    if n < 1:
        raise ValueError("n must be positive")
    return np.tril(np.ones((n, n), dtype=bool), k=-1)
""",
    ),
    dict(
        name="causal_mask transposed (upper triangle: attends to the future)",
        cell="causal_mask",
        catches={"test_causal_mask_values"},
        code="""
def causal_mask(n):
    if n < 1:
        raise ValueError("n must be positive")
    return np.triu(np.ones((n, n), dtype=bool))
""",
    ),
    dict(
        name="causal_mask with inverted semantics (True = masked)",
        cell="causal_mask",
        catches={"test_causal_mask_values"},
        code="""
def causal_mask(n):
    if n < 1:
        raise ValueError("n must be positive")
    return np.triu(np.ones((n, n), dtype=bool), k=1)
""",
    ),
    dict(
        name="causal_mask returns 0/1 floats (np.tri)",
        cell="causal_mask",
        catches={"test_causal_mask_values"},
        code="""
def causal_mask(n):
    if n < 1:
        raise ValueError("n must be positive")
    return np.tri(n)
""",
    ),
    dict(
        name="causal_mask accepts n < 1",
        cell="causal_mask",
        catches={"test_causal_mask_errors"},
        code="""
def causal_mask(n):
    return np.tril(np.ones((max(n, 0), max(n, 0)), dtype=bool))
""",
    ),
    # ---- padding_mask ------------------------------------------------------------------
    dict(
        name="padding_mask with <= instead of <",
        cell="padding_mask",
        catches={"test_padding_mask_values"},
        code="""
def padding_mask(lengths, n):
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or np.any(lengths < 0) or np.any(lengths > n):
        raise ValueError("bad lengths")
    return np.arange(n)[None, :] <= lengths[:, None]
""",
    ),
    dict(
        name="padding_mask with inverted semantics (True = padding)",
        cell="padding_mask",
        catches={"test_padding_mask_values"},
        code="""
def padding_mask(lengths, n):
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or np.any(lengths < 0) or np.any(lengths > n):
        raise ValueError("bad lengths")
    return np.arange(n)[None, :] >= lengths[:, None]
""",
    ),
    dict(
        name="padding_mask transposed, shape (n, B)",
        cell="padding_mask",
        catches={"test_padding_mask_values"},
        code="""
def padding_mask(lengths, n):
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or np.any(lengths < 0) or np.any(lengths > n):
        raise ValueError("bad lengths")
    return np.arange(n)[:, None] < lengths[None, :]
""",
    ),
    dict(
        name="padding_mask returns 0/1 integers",
        cell="padding_mask",
        catches={"test_padding_mask_values"},
        code="""
def padding_mask(lengths, n):
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or np.any(lengths < 0) or np.any(lengths > n):
        raise ValueError("bad lengths")
    return (np.arange(n)[None, :] < lengths[:, None]).astype(int)
""",
    ),
    dict(
        name="padding_mask does not check the lengths",
        cell="padding_mask",
        catches={"test_padding_mask_errors"},
        code="""
def padding_mask(lengths, n):
    lengths = np.asarray(lengths)
    return np.arange(n)[None, :] < lengths[:, None]
""",
    ),
    # ---- masked_softmax ----------------------------------------------------------------
    dict(
        name="masked_softmax multiplies the scores by the mask (zero-filled, not -inf)",
        cell="masked_softmax",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_stability",
            "test_masked_softmax_axis",
            "test_masked_softmax_broadcasting",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_fully_masked",
            "test_masked_softmax_stability",
            "test_masked_softmax_values",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    s = scores * mask
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="masked_softmax fills with -1e9 (uniform weights in fully masked rows)",
        cell="masked_softmax",
        catches={
            "test_attention_fully_masked",
            "test_masked_softmax_axis",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_fully_masked",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    s = np.where(mask, scores, -1e9)
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="masked_softmax gives NaN for fully masked rows (softmax of all -inf)",
        cell="masked_softmax",
        catches={
            "test_attention_fully_masked",
            "test_masked_softmax_axis",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_fully_masked",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    s = np.where(mask, scores, -np.inf)
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="masked_softmax masks after the softmax without renormalising",
        cell="masked_softmax",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_stability",
            "test_masked_softmax_axis",
            "test_masked_softmax_broadcasting",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_fully_masked",
            "test_masked_softmax_stability",
            "test_masked_softmax_values",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return np.where(mask, e / e.sum(axis=axis, keepdims=True), 0)
""",
    ),
    dict(
        name="masked_softmax masks after the softmax and renormalises (0/0 when masked scores dominate)",
        cell="masked_softmax",
        catches={
            "test_attention_fully_masked",
            "test_attention_stability",
            "test_masked_softmax_axis",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_fully_masked",
            "test_masked_softmax_stability",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    p = np.where(mask, e / e.sum(axis=axis, keepdims=True), 0)
    total = p.sum(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        return p / total
""",
    ),
    dict(
        name="masked_softmax without the max subtraction",
        cell="masked_softmax",
        catches={"test_attention_stability", "test_masked_softmax_stability"},
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    e = np.exp(np.where(mask, scores, -np.inf))
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    dict(
        name="masked_softmax subtracts the max of the unmasked scores (masked entries included)",
        cell="masked_softmax",
        catches={"test_attention_stability", "test_masked_softmax_stability"},
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    e = np.exp(np.where(mask, scores, -np.inf) - scores.max(axis=axis, keepdims=True))
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    dict(
        name="masked_softmax with inverted mask semantics (True = masked)",
        cell="masked_softmax",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_shapes",
            "test_attention_stability",
            "test_attention_values",
            "test_masked_softmax_axis",
            "test_masked_softmax_broadcasting",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_fully_masked",
            "test_masked_softmax_stability",
            "test_masked_softmax_values",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    s = np.where(mask, -np.inf, scores)
    m = s.max(axis=axis, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    dict(
        name="masked_softmax writes -inf into the caller's scores (s[~mask] = -inf)",
        cell="masked_softmax",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_errors",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_stability",
            "test_masked_softmax_axis",
            "test_masked_softmax_broadcasting",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_errors",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    s = np.asarray(scores)
    if s.dtype != np.float32:
        s = s.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    if isinstance(scores, np.ndarray) and scores.dtype in (np.float32, np.float64):
        s = scores
    s[~mask] = -np.inf
    m = s.max(axis=axis, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    dict(
        name="masked_softmax turns float32 into float64",
        cell="masked_softmax",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_masked_softmax_dtype_and_input",
            "test_masked_softmax_fully_masked",
            "test_masked_softmax_stability",
        },
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores, dtype=float)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    s = np.where(mask, scores, -np.inf)
    m = s.max(axis=axis, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    dict(
        name="masked_softmax always normalises over the last axis",
        cell="masked_softmax",
        catches={"test_masked_softmax_axis", "test_masked_softmax_fully_masked"},
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    s = np.where(mask, scores, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    dict(
        name="masked_softmax treats any mask as truthy (a float 0/-inf mask is silently inverted)",
        cell="masked_softmax",
        catches={"test_masked_softmax_errors"},
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    s = np.where(np.asarray(mask, dtype=bool), scores, -np.inf)
    m = s.max(axis=axis, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    # ---- scaled_dot_product_attention ----------------------------------------------------
    dict(
        name="attention without the 1/sqrt(d) scaling",
        cell="scaled_dot_product_attention",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_stability",
            "test_attention_values",
        },
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ np.swapaxes(k, -1, -2)
    weights = masked_softmax(scores, True if mask is None else mask)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention divides by d instead of sqrt(d)",
        cell="scaled_dot_product_attention",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_stability",
            "test_attention_values",
        },
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ np.swapaxes(k, -1, -2) / q.shape[-1]
    weights = masked_softmax(scores, True if mask is None else mask)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention transposes k with k.T (wrong for batched input)",
        cell="scaled_dot_product_attention",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_shapes",
            "test_attention_stability",
            "test_attention_values",
        },
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ k.T / math.sqrt(q.shape[-1])
    weights = masked_softmax(scores, True if mask is None else mask)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention normalises over the queries (softmax along axis -2)",
        cell="scaled_dot_product_attention",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_shapes",
            "test_attention_stability",
            "test_attention_values",
        },
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    weights = masked_softmax(scores, True if mask is None else mask, axis=-2)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention returns only the output",
        cell="scaled_dot_product_attention",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_shapes",
            "test_attention_stability",
            "test_attention_values",
        },
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    weights = masked_softmax(scores, True if mask is None else mask)
    return weights @ v
""",
    ),
    dict(
        name="attention turns float32 into float64 (divides by np.sqrt(d))",
        cell="scaled_dot_product_attention",
        catches={"test_attention_dtype_and_input", "test_attention_fully_masked"},
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    weights = masked_softmax(scores, True if mask is None else mask)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention with its own softmax: zero-filled mask, no max, NaN rows",
        cell="scaled_dot_product_attention",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_stability",
        },
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores * mask
    e = np.exp(scores)
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention ignores the mask",
        cell="scaled_dot_product_attention",
        catches={
            "test_attention_dtype_and_input",
            "test_attention_errors",
            "test_attention_fully_masked",
            "test_attention_mask",
            "test_attention_stability",
        },
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("inputs need at least 2 dimensions")
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    weights = masked_softmax(scores, True)
    return weights @ v, weights
""",
    ),
    dict(
        name="attention does not check the shapes (1-D q slips through)",
        cell="scaled_dot_product_attention",
        catches={"test_attention_errors"},
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    weights = masked_softmax(scores, True if mask is None else mask)
    return weights @ v, weights
""",
    ),
    # --- false positives closed by the tests aimed at them ---------------------------
    dict(
        name="masked_softmax lets a mask larger than the scores broadcast the result up",
        cell="masked_softmax",
        catches={"test_masked_softmax_errors"},
        code="""
def masked_softmax(scores, mask, axis=-1):
    scores = np.asarray(scores)
    if scores.dtype != np.float32:
        scores = scores.astype(np.float64)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError("mask must be boolean")
    masked = np.where(mask, scores, -np.inf)  # (2, 3) scores and a (4, 2, 3) mask give (4, 2, 3)
    m = masked.max(axis=axis, keepdims=True)
    e = np.exp(masked - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=axis, keepdims=True)
    return e / np.where(total > 0, total, 1)
""",
    ),
    dict(
        name="attention casts a float mask to bool (an additive 0/-inf mask is inverted)",
        cell="scaled_dot_product_attention",
        catches={"test_attention_errors"},
        code="""
def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if q.dtype == k.dtype == v.dtype == np.float32 else np.float64
    q, k, v = q.astype(dtype), k.astype(dtype), v.astype(dtype)
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError("q, k and v need shape (..., L, d)")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError("shapes do not fit")
    np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    mask = True if mask is None else np.asarray(mask).astype(bool)
    weights = masked_softmax(scores, mask)
    return weights @ v, weights
""",
    ),
]
