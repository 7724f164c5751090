"""Chapter 04: correct answers in other styles; each must get full marks (test_variants.py)."""

ASSIGNMENT = "04-log-sum-exp"

VARIANTS = [
    dict(
        name="logsumexp with scipy.special.logsumexp",
        cell="logsumexp",
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    out = scipy.special.logsumexp(z.astype(np.float64), axis=axis, keepdims=keepdims)
    return np.asarray(out).astype(dtype)[()]
""",
    ),
    dict(
        name="logsumexp with np.logaddexp.reduce",
        cell="logsumexp",
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    if axis is None:
        out = np.logaddexp.reduce(z.reshape(-1))
        return out.reshape((1,) * z.ndim) if keepdims else out
    return np.logaddexp.reduce(z, axis=axis, keepdims=keepdims)
""",
    ),
    dict(
        name="logsumexp as a loop over the slices",
        cell="logsumexp",
        code="""
import math

def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    x = z.astype(np.float64)
    if axis is None:
        x, axis = x.reshape(1, -1), -1
        shape = (1,) * z.ndim if keepdims else ()
    else:
        shape = np.sum(np.zeros(z.shape), axis=axis, keepdims=keepdims).shape
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape[:-1])
    for index in np.ndindex(moved.shape[:-1]):
        row = moved[index].tolist()
        if any(math.isnan(v) for v in row):
            out[index] = math.nan
        elif math.inf in row:
            out[index] = math.inf
        elif all(v == -math.inf for v in row):
            out[index] = -math.inf
        else:
            m = max(row)
            out[index] = m + math.log(math.fsum(math.exp(v - m) for v in row))
    return out.reshape(shape).astype(dtype)[()]
""",
    ),
    dict(
        name="logsumexp in float64 inside for float32 input, with log1p",
        cell="logsumexp",
        code="""
def logsumexp(z, axis=-1, keepdims=False):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    x = z.astype(np.float64)
    if axis is None:
        x = x.reshape(-1)
    ax = 0 if axis is None else axis
    m = x.max(axis=ax, keepdims=True)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(invalid="ignore"):
        e = np.exp(x - safe)
    s = e.sum(axis=ax, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(np.isfinite(m), m + np.log1p(s - 1.0), m)
    if axis is None:
        out = out.reshape((1,) * z.ndim if keepdims else ())
    elif not keepdims:
        out = np.squeeze(out, axis=axis)
    return out.astype(dtype)[()]
""",
    ),
    dict(
        name="log_softmax with the log1p refinement (more accurate than scipy)",
        cell="log_softmax",
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    m = z.max(axis=axis, keepdims=True)
    finite = np.isfinite(m)
    shifted = z - np.where(finite, m, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = np.exp(shifted)
        top = np.argmax(np.where(np.isnan(shifted), -np.inf, shifted), axis=axis)
        rest = e.copy()
        np.put_along_axis(rest, np.expand_dims(top, axis), 0, axis=axis)
        refined = shifted - np.log1p(rest.sum(axis=axis, keepdims=True))
        plain = shifted - np.log(e.sum(axis=axis, keepdims=True))
    return np.where(finite, refined, plain)
""",
    ),
    dict(
        name="log_softmax as z - logsumexp(z, keepdims=True) in the input's dtype",
        cell="log_softmax",
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lse = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
        return z - lse
""",
    ),
    dict(
        name="log_softmax in float64 inside for float32 input",
        cell="log_softmax",
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    x = z.astype(np.float64)
    with np.errstate(all="ignore"):
        out = x - scipy.special.logsumexp(x, axis=axis, keepdims=True)
        m = x.max(axis=axis, keepdims=True)
        out = np.where(np.isfinite(m), out, scipy.special.log_softmax(x, axis=axis))
    return out.astype(dtype)
""",
    ),
    dict(
        name="log_softmax with scipy.special.log_softmax",
        cell="log_softmax",
        code="""
def log_softmax(z, axis=-1):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    with np.errstate(all="ignore"):
        return scipy.special.log_softmax(z.astype(np.float64), axis=axis).astype(dtype)
""",
    ),
]
