"""Chapter 01: correct answers in other styles; each must get full marks (test_variants.py)."""

ASSIGNMENT = "01-definition"

VARIANTS = [
    dict(
        name="softmax with scipy.special.softmax",
        cell="softmax",
        code="""
def softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    return scipy.special.softmax(z, axis=axis)
""",
    ),
    dict(
        name="softmax as a loop over the slices along axis",
        cell="softmax",
        code="""
import math

def softmax(z, axis=-1):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    moved = np.moveaxis(z.astype(np.float64), axis, -1)
    out = np.empty(moved.shape, dtype=np.float64)
    for index in np.ndindex(moved.shape[:-1]):
        row = [math.exp(v) for v in moved[index]]
        total = math.fsum(row)
        out[index] = [v / total for v in row]
    return np.moveaxis(out, -1, axis).astype(dtype)
""",
    ),
    dict(
        name="softmax in log space: exp(z - logsumexp(z))",
        cell="softmax",
        code="""
def softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    m = z.max(axis=axis, keepdims=True)
    log_total = np.log(np.exp(z - m).sum(axis=axis, keepdims=True)) + m
    return np.exp(z - log_total)
""",
    ),
    dict(
        name="softmax in float32-native arithmetic with the max subtracted",
        cell="softmax",
        code="""
def softmax(z, axis=-1):
    z = np.array(z)  # a copy
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    z -= z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    return z / np.sum(z, axis=axis, keepdims=True)
""",
    ),
    dict(
        name="sigmoid with scipy.special.expit",
        cell="sigmoid",
        code="""
def sigmoid(x):
    x = np.asarray(x)
    if x.dtype != np.float32:
        x = x.astype(np.float64)
    return scipy.special.expit(x)
""",
    ),
    dict(
        name="sigmoid as a loop with math.exp on the safe side",
        cell="sigmoid",
        code="""
import math

def sigmoid(x):
    x = np.asarray(x)
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    out = np.empty(x.shape, dtype=np.float64)
    for index, v in np.ndenumerate(x.astype(np.float64)):
        if v >= 0:
            out[index] = 1.0 / (1.0 + math.exp(-v))
        else:
            e = math.exp(v)
            out[index] = e / (1.0 + e)
    return out.astype(dtype)
""",
    ),
    dict(
        name="sigmoid in log space: exp(-logaddexp(0, -x))",
        cell="sigmoid",
        code="""
def sigmoid(x):
    x = np.asarray(x)
    if x.dtype != np.float32:
        x = x.astype(np.float64)
    with np.errstate(under="ignore"):
        return np.exp(-np.logaddexp(np.zeros((), dtype=x.dtype), -x))
""",
    ),
    dict(
        name="sigmoid with boolean indexing",
        cell="sigmoid",
        code="""
def sigmoid(x):
    x = np.array(x, dtype=np.float32 if np.asarray(x).dtype == np.float32 else np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out
""",
    ),
]
