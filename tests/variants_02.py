"""Chapter 02: correct answers in other styles; each must get full marks (test_variants.py)."""

ASSIGNMENT = "02-temperature"

VARIANTS = [
    dict(
        name="temperature raises its own ValueError subclass",
        cell="softmax_with_temperature",
        code='''
class TemperatureError(ValueError):
    """A temperature that is not > 0."""


def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if not temperature > 0:
        raise TemperatureError(f"temperature must be > 0, got {temperature!r}")
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    z = z.astype(np.float64)
    with np.errstate(over="ignore"):
        scaled = (z - z.max(axis=axis, keepdims=True)) / temperature
    e = np.exp(scaled)
    return (e / e.sum(axis=axis, keepdims=True)).astype(dtype)
''',
    ),
    dict(
        name="temperature with scipy.special.softmax of the shifted scores",
        cell="softmax_with_temperature",
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("the temperature must be positive")
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    z = z.astype(np.float64)
    with np.errstate(over="ignore"):
        shifted = (z - np.max(z, axis=axis, keepdims=True)) / temperature
    return scipy.special.softmax(shifted, axis=axis).astype(dtype)
""",
    ),
    dict(
        name="temperature in log space: exp(s - logsumexp(s))",
        cell="softmax_with_temperature",
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if not (temperature > 0):
        raise ValueError(f"temperature {temperature} is not > 0")
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    z = z.astype(np.float64)
    with np.errstate(over="ignore"):
        s = (z - z.max(axis=axis, keepdims=True)) / temperature
    return np.exp(s - scipy.special.logsumexp(s, axis=axis, keepdims=True)).astype(dtype)
""",
    ),
    dict(
        name="temperature in float32-native arithmetic (scaled in float64 only when needed)",
        cell="softmax_with_temperature",
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    with np.errstate(over="ignore"):
        shifted = np.subtract(z, z.max(axis=axis, keepdims=True))
        shifted = (shifted / np.asarray(temperature, dtype=np.float64)).astype(z.dtype)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="entropy with scipy.special.entr",
        cell="entropy",
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    if p.dtype != np.float32:
        p = p.astype(np.float64)
    return scipy.special.entr(p).sum(axis=axis)
""",
    ),
    dict(
        name="entropy with scipy.special.xlogy",
        cell="entropy",
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    return -np.sum(scipy.special.xlogy(p, p), axis=axis)
""",
    ),
    dict(
        name="entropy as a loop over the slices with math.log",
        cell="entropy",
        code="""
import math

def entropy(p, axis=-1):
    p = np.asarray(p)
    dtype = np.float32 if p.dtype == np.float32 else np.float64
    moved = np.moveaxis(p.astype(np.float64), axis, -1)
    out = np.zeros(moved.shape[:-1])
    for index in np.ndindex(moved.shape[:-1]):
        out[index] = -math.fsum(q * math.log(q) for q in moved[index] if q > 0)
    return out.astype(dtype)[()]
""",
    ),
    dict(
        name="entropy with np.where around the log",
        cell="entropy",
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)
    return -terms.sum(axis=axis)
""",
    ),
    dict(
        name="sample by inverse transform (searchsorted on the cumulative sum)",
        cell="sample",
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    probs = softmax_with_temperature(np.asarray(logits, dtype=np.float64), temperature)
    rng = np.random.default_rng() if rng is None else rng
    cdf = np.cumsum(probs)
    u = rng.random(size) * cdf[-1]
    draws = np.minimum(np.searchsorted(cdf, u, side="right"), len(probs) - 1)
    return int(draws) if size is None else draws
""",
    ),
    dict(
        name="sample with the Gumbel-max trick",
        cell="sample",
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(logits, dtype=np.float64) / temperature
    rng = np.random.default_rng() if rng is None else rng
    shape = () if size is None else (size if isinstance(size, tuple) else (size,))
    noisy = z + rng.gumbel(size=shape + z.shape)
    draws = np.argmax(noisy, axis=-1)
    return int(draws) if size is None else draws
""",
    ),
    dict(
        name="sample with rng.choice over scipy's softmax",
        cell="sample",
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    z = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore"):
        probs = scipy.special.softmax((z - z.max()) / temperature)
    if rng is None:
        rng = np.random.default_rng()
    if size is None:
        return int(rng.choice(z.size, p=probs))
    return rng.choice(z.size, size=size, p=probs)
""",
    ),
    dict(
        name="sample as a loop of single draws",
        cell="sample",
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    probs = softmax_with_temperature(np.asarray(logits, dtype=np.float64), temperature)
    rng = rng if rng is not None else np.random.default_rng()
    cdf = np.cumsum(probs)

    def one():
        u = rng.random() * cdf[-1]
        for i, c in enumerate(cdf):
            if u < c and probs[i] > 0:
                return i
        return int(np.flatnonzero(probs)[-1])

    if size is None:
        return one()
    shape = size if isinstance(size, tuple) else (size,)
    return np.array([one() for _ in range(int(np.prod(shape)))], dtype=np.int64).reshape(shape)
""",
    ),
    dict(
        name="top_k by sorting, with its own ValueError subclass",
        cell="top_k_filter",
        code="""
class FilterError(ValueError):
    pass


def top_k_filter(logits, k):
    z = np.asarray(logits)
    if z.ndim != 1:
        raise FilterError(f"logits must be 1-D, not of shape {z.shape}")
    if k < 1:
        raise FilterError(f"k must be >= 1, got {k}")
    z = z.astype(np.float32 if z.dtype == np.float32 else np.float64)
    if k >= z.size:
        return z.copy()
    threshold = np.sort(z)[-k]
    return np.where(z < threshold, -np.inf, z).astype(z.dtype)
""",
    ),
    dict(
        name="top_k as a loop counting the strictly larger entries",
        cell="top_k_filter",
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    z = np.asarray(logits)
    if z.ndim != 1:
        raise ValueError("logits must be 1-D")
    out = np.array(z, dtype=np.float32 if z.dtype == np.float32 else np.float64)
    values = out.tolist()
    for i, v in enumerate(values):
        if sum(w > v for w in values) >= k:
            out[i] = -np.inf
    return out
""",
    ),
    dict(
        name="top_k with np.partition of the negated logits",
        cell="top_k_filter",
        code="""
def top_k_filter(logits, k):
    z = np.asarray(logits)
    if k < 1 or z.ndim != 1:
        raise ValueError(f"need k >= 1 and 1-D logits, got k={k}, shape {z.shape}")
    z = z.astype(np.float32) if z.dtype == np.float32 else z.astype(np.float64)
    k = min(k, z.size)
    kth = -np.partition(-z, k - 1)[k - 1]
    out = z.copy()
    out[z < kth] = -np.inf
    return out
""",
    ),
    dict(
        name="top_p as a loop over the entries",
        cell="top_p_filter",
        code="""
class NucleusError(ValueError):
    pass


def top_p_filter(logits, p):
    if not (0 < p <= 1):
        raise NucleusError(f"p must be in (0, 1], got {p}")
    z = np.asarray(logits)
    if z.ndim != 1:
        raise NucleusError("logits must be 1-D")
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    z = z.astype(np.float64)
    probs = scipy.special.softmax(z)
    out = z.copy()
    for i in range(z.size):
        if probs[z > z[i]].sum() >= p:
            out[i] = -np.inf
    return out.astype(dtype)
""",
    ),
    dict(
        name="top_p over the distinct values (np.unique)",
        cell="top_p_filter",
        code="""
def top_p_filter(logits, p):
    if p <= 0 or p > 1:
        raise ValueError(f"p = {p} is outside (0, 1]")
    z = np.asarray(logits)
    if z.ndim != 1:
        raise ValueError(f"logits must be 1-D, got {z.shape}")
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    z = z.astype(np.float64)
    probs = softmax_with_temperature(z)
    values, inverse = np.unique(z, return_inverse=True)          # ascending distinct values
    mass = np.bincount(inverse, weights=probs, minlength=len(values))
    above = np.concatenate([np.cumsum(mass[::-1])[::-1][1:], [0.0]])  # strictly larger values
    return np.where(above[inverse] < p, z, -np.inf).astype(dtype)
""",
    ),
    dict(
        name="top_p with log-probabilities and a sorted scan",
        cell="top_p_filter",
        code="""
def top_p_filter(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must lie in (0, 1]")
    z = np.asarray(logits)
    if z.ndim != 1:
        raise ValueError("top_p_filter needs 1-D logits")
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    z = z.astype(np.float64)
    probs = np.exp(z - scipy.special.logsumexp(z))
    order = np.argsort(-z, kind="stable")
    out = np.full(z.shape, -np.inf)
    total, i = 0.0, 0
    while i < len(order):
        j = i
        while j < len(order) and z[order[j]] == z[order[i]]:
            j += 1
        if total < p:
            out[order[i:j]] = z[order[i:j]]
        total += probs[order[i:j]].sum()
        i = j
    return out.astype(dtype)
""",
    ),
]
