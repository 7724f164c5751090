"""Chapter 04: wrong answers students really write, and the tests that must catch them.

Each entry replaces one solution cell (``cell`` is its grade_id) of an otherwise
correct submission; ``catches`` names the tests that must then fail.
"""

ASSIGNMENT = "04-log-sum-exp"

MISTAKES = [
    dict(
        name="logsumexp without the max (overflows to inf)",
        cell="logsumexp",
        catches={"test_logsumexp_huge"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    return np.log(np.sum(np.exp(z), axis=axis, keepdims=keepdims))
""",
    ),
    dict(
        name="logsumexp subtracts the max but never adds it back",
        cell="logsumexp",
        catches={
            "test_logsumexp_values",
            "test_logsumexp_axis",
            "test_logsumexp_huge",
            "test_logsumexp_shift_and_input",
        },
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(z - m), axis=axis, keepdims=keepdims))
""",
    ),
    dict(
        name="logsumexp takes the max without keepdims",
        cell="logsumexp",
        catches={"test_logsumexp_axis", "test_logsumexp_keepdims"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis))
    return np.expand_dims(out, axis) if keepdims else out
""",
    ),
    dict(
        name="logsumexp ignores keepdims",
        cell="logsumexp",
        catches={"test_logsumexp_keepdims"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)
""",
    ),
    dict(
        name="logsumexp gives NaN for all -inf rows (-inf - (-inf))",
        cell="logsumexp",
        catches={"test_logsumexp_neg_inf", "test_logsumexp_inf_and_nan"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)
""",
    ),
    dict(
        name="logsumexp handles -inf rows but gives NaN for +inf",
        cell="logsumexp",
        catches={"test_logsumexp_inf_and_nan"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(m == -np.inf, 0, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)
""",
    ),
    dict(
        name="logsumexp does not support axis=None",
        cell="logsumexp",
        catches={"test_logsumexp_axis_none"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.moveaxis(np.asarray(z), axis, -1)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
    return np.moveaxis(out, -1, axis) if keepdims else out[..., 0]
""",
    ),
    dict(
        name="logsumexp with axis=None drops keepdims",
        cell="logsumexp",
        catches={"test_logsumexp_axis_none"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if axis is None:
        z, axis, keepdims = z.ravel(), -1, False
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)
""",
    ),
    dict(
        name="logsumexp turns float32 into float64",
        cell="logsumexp",
        catches={"test_logsumexp_dtype"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)
""",
    ),
    dict(
        name="logsumexp subtracts the max in place",
        cell="logsumexp",
        catches={"test_logsumexp_shift_and_input"},
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    z -= m
    with np.errstate(divide="ignore"):
        out = m + np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)
""",
    ),
    dict(
        name="log_softmax as np.log(softmax(z))",
        cell="log_softmax",
        catches={"test_log_softmax_extremes"},
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return np.log(e / np.sum(e, axis=axis, keepdims=True))
""",
    ),
    dict(
        name="log_softmax as z - logsumexp(z) without keepdims",
        cell="log_softmax",
        catches={"test_log_softmax_axis", "test_log_softmax_consistency_and_input"},
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis)
    return z - (m + np.log(np.sum(np.exp(z - np.expand_dims(m, axis)), axis=axis)))
""",
    ),
    dict(
        name="log_softmax returns probabilities",
        cell="log_softmax",
        catches={"test_log_softmax_values", "test_log_softmax_extremes"},
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
""",
    ),
    dict(
        name="log_softmax turns float32 into float64",
        cell="log_softmax",
        catches={"test_log_softmax_float32"},
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    shifted = z - np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
""",
    ),
    # (z - logsumexp(z) in float32 was listed here; the amended contract's atol,
    # eps(float32) x max|z|, admits its rounding, so it is a correct variant now:
    # tests/variants_04.py.)
    dict(
        name="log_softmax without the max (overflows)",
        cell="log_softmax",
        catches={"test_log_softmax_extremes"},
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
""",
    ),
    dict(
        name="log_softmax subtracts a max of +inf (NaN instead of -inf)",
        cell="log_softmax",
        catches={"test_log_softmax_infinities"},
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
""",
    ),
]
