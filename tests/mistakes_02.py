"""Chapter 02: wrong answers students really write, and the tests that must catch them.

Each entry replaces one solution cell (``cell`` is its grade_id) of an otherwise
correct submission; ``catches`` names the tests that must then fail.
"""

ASSIGNMENT = "02-temperature"

MISTAKES = [
    # --- softmax_with_temperature -------------------------------------------------
    dict(
        name="temperature multiplies instead of divides",
        cell="softmax_with_temperature",
        catches={"test_temperature_values", "test_temperature_limits"},
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    s = (z - z.max(axis=axis, keepdims=True)) * temperature
    e = np.exp(s)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="temperature is ignored",
        cell="softmax_with_temperature",
        catches={
            "test_temperature_values",
            "test_temperature_limits",
            "test_entropy_and_temperature",
        },
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="no max subtraction: exp(z / T) overflows",
        cell="softmax_with_temperature",
        catches={"test_temperature_limits"},
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    e = np.exp(z / temperature)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="divides by T before subtracting the max",
        cell="softmax_with_temperature",
        catches={"test_temperature_limits"},
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    s = z / temperature
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="subtracts the max of the whole array",
        cell="softmax_with_temperature",
        catches={"test_temperature_limits"},
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    e = np.exp((z - z.max()) / temperature)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="accepts temperature <= 0",
        cell="softmax_with_temperature",
        catches={"test_temperature_rules"},
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    with np.errstate(all="ignore"):
        e = np.exp((z - z.max(axis=axis, keepdims=True)) / temperature)
        return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="float32 becomes float64",
        cell="softmax_with_temperature",
        catches={"test_temperature_rules"},
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z, dtype=float)
    e = np.exp((z - z.max(axis=axis, keepdims=True)) / temperature)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="subtracts the max in place",
        cell="softmax_with_temperature",
        catches={"test_temperature_rules"},
        code="""
def softmax_with_temperature(z, temperature=1.0, axis=-1):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    z -= z.max(axis=axis, keepdims=True)
    z /= temperature
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    # --- entropy ---------------------------------------------------------------------
    dict(
        name="entropy gives NaN for zero probabilities",
        cell="entropy",
        catches={"test_entropy_values", "test_entropy_axis_dtype"},
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    return -np.sum(p * np.log(p), axis=axis)
""",
    ),
    dict(
        name="entropy in bits (log2)",
        cell="entropy",
        catches={"test_entropy_values", "test_entropy_axis_dtype"},
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    return -np.sum(scipy.special.xlogy(p, p) / np.log(2), axis=axis)
""",
    ),
    dict(
        name="entropy without the minus sign",
        cell="entropy",
        catches={"test_entropy_values", "test_entropy_axis_dtype", "test_entropy_and_temperature"},
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    return np.sum(scipy.special.xlogy(p, p), axis=axis)
""",
    ),
    dict(
        name="entropy adds an epsilon inside the log",
        cell="entropy",
        catches={"test_entropy_values"},
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    return -np.sum(p * np.log(p + 1e-10), axis=axis)
""",
    ),
    dict(
        name="entropy drops zeros by boolean indexing (loses the axis)",
        cell="entropy",
        catches={"test_entropy_axis_dtype"},
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    q = p[p > 0]
    return -np.sum(q * np.log(q))
""",
    ),
    dict(
        name="entropy returns float64 for float32",
        cell="entropy",
        catches={"test_entropy_axis_dtype"},
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p, dtype=np.float64)
    return -np.sum(scipy.special.xlogy(p, p), axis=axis)
""",
    ),
    # --- sample --------------------------------------------------------------------
    dict(
        name="sample returns the argmax (greedy)",
        cell="sample",
        catches={
            "test_sample_frequencies",
            "test_sample_temperature_extremes",
            "test_sample_uses_rng",
        },
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    i = int(np.argmax(logits))
    return i if size is None else np.full(size, i)
""",
    ),
    dict(
        name="sample ignores the temperature",
        cell="sample",
        catches={"test_sample_frequencies", "test_sample_temperature_extremes"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    probs = softmax_with_temperature(np.asarray(logits, dtype=np.float64))
    rng = np.random.default_rng() if rng is None else rng
    draws = rng.choice(len(probs), size=size, p=probs)
    return int(draws) if size is None else draws
""",
    ),
    dict(
        name="sample ignores rng (always a fresh generator)",
        cell="sample",
        catches={"test_sample_uses_rng"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    probs = softmax_with_temperature(np.asarray(logits, dtype=np.float64), temperature)
    draws = np.random.default_rng().choice(len(probs), size=size, p=probs)
    return int(draws) if size is None else draws
""",
    ),
    dict(
        name="sample draws logit values, not indices",
        cell="sample",
        catches={"test_sample_returns_indices"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    logits = np.asarray(logits, dtype=np.float64)
    probs = softmax_with_temperature(logits, temperature)
    rng = np.random.default_rng() if rng is None else rng
    return rng.choice(logits, size=size, p=probs)
""",
    ),
    dict(
        name="sample draws uniformly",
        cell="sample",
        catches={"test_sample_frequencies", "test_sample_temperature_extremes"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    rng = np.random.default_rng() if rng is None else rng
    draws = rng.integers(0, len(logits), size=size)
    return int(draws) if size is None else draws
""",
    ),
    dict(
        name="sample returns the rank in sorted order, not the index",
        cell="sample",
        catches={"test_sample_frequencies", "test_sample_temperature_extremes"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    probs = np.sort(softmax_with_temperature(np.asarray(logits, dtype=np.float64), temperature))[::-1]
    rng = np.random.default_rng() if rng is None else rng
    draws = rng.choice(len(probs), size=size, p=probs)
    return int(draws) if size is None else draws
""",
    ),
    dict(
        name="sample returns an array even for one draw",
        cell="sample",
        catches={"test_sample_returns_indices"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    probs = softmax_with_temperature(np.asarray(logits, dtype=np.float64), temperature)
    rng = np.random.default_rng() if rng is None else rng
    return rng.choice(len(probs), size=1 if size is None else size, p=probs)
""",
    ),
    dict(
        name="sample without max subtraction (NaN probabilities for large logits)",
        cell="sample",
        catches={"test_sample_frequencies"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    if temperature <= 0:
        raise ValueError("temperature must be > 0")
    e = np.exp(np.asarray(logits, dtype=np.float64) / temperature)
    rng = np.random.default_rng() if rng is None else rng
    draws = rng.choice(len(e), size=size, p=e / e.sum())
    return int(draws) if size is None else draws
""",
    ),
    # --- top_k_filter ----------------------------------------------------------------
    dict(
        name="top_k keeps exactly k entries (drops ties)",
        cell="top_k_filter",
        catches={"test_top_k_filter"},
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    logits = np.asarray(logits)
    out = logits.astype(np.float32 if logits.dtype == np.float32 else np.float64)
    drop = np.argsort(out)[::-1][k:]
    out[drop] = -np.inf
    return out
""",
    ),
    dict(
        name="top_k off by one (keeps k + 1)",
        cell="top_k_filter",
        catches={"test_top_k_filter"},
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    logits = np.asarray(logits)
    out = logits.astype(np.float32 if logits.dtype == np.float32 else np.float64)
    if k < len(out):
        out[out < np.sort(out)[-k - 1]] = -np.inf
    return out
""",
    ),
    dict(
        name="top_k sets the dropped logits to 0",
        cell="top_k_filter",
        catches={"test_top_k_filter", "test_top_k_edges"},
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    logits = np.asarray(logits)
    out = logits.astype(np.float32 if logits.dtype == np.float32 else np.float64)
    if k < len(out):
        out[out < np.sort(out)[-k]] = 0.0
    return out
""",
    ),
    dict(
        name="top_k edits the input in place",
        cell="top_k_filter",
        catches={"test_top_k_filter"},
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    out = np.asarray(logits)
    if out.dtype.kind != "f":
        out = out.astype(np.float64)
    if k < len(out):
        out[out < np.sort(out)[-k]] = -np.inf
    return out
""",
    ),
    dict(
        name="top_k fails for k >= len(logits) and k < 1",
        cell="top_k_filter",
        catches={"test_top_k_edges"},
        code="""
def top_k_filter(logits, k):
    logits = np.asarray(logits)
    out = logits.astype(np.float32 if logits.dtype == np.float32 else np.float64)
    out[out < np.sort(out)[-k]] = -np.inf
    return out
""",
    ),
    dict(
        name="top_k keeps the k smallest",
        cell="top_k_filter",
        catches={"test_top_k_filter"},
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    logits = np.asarray(logits)
    out = logits.astype(np.float32 if logits.dtype == np.float32 else np.float64)
    if k < len(out):
        out[out > np.sort(out)[k - 1]] = -np.inf
    return out
""",
    ),
    dict(
        name="top_k keeps int dtype",
        cell="top_k_filter",
        catches={"test_top_k_edges"},
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError("k must be at least 1")
    out = np.array(logits)
    if k < len(out):
        out[out < np.sort(out)[-k]] = -np.inf
    return out
""",
    ),
    # --- top_p_filter ----------------------------------------------------------------
    dict(
        name="top_p splits ties (plain sorted cumulative sum)",
        cell="top_p_filter",
        catches={"test_top_p_filter", "test_top_p_edges"},
        code="""
def top_p_filter(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    logits = np.asarray(logits)
    z = logits.astype(np.float64)
    probs = softmax_with_temperature(z)
    order = np.argsort(-z, kind="stable")
    before = np.cumsum(probs[order]) - probs[order]
    keep = np.zeros(len(z), dtype=bool)
    keep[order] = before < p
    return np.where(keep, z, -np.inf).astype(np.float32 if logits.dtype == np.float32 else np.float64)
""",
    ),
    dict(
        name="top_p counts the entry itself (drops the top entry)",
        cell="top_p_filter",
        catches={"test_top_p_filter", "test_top_p_edges"},
        code="""
def top_p_filter(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    logits = np.asarray(logits)
    z = logits.astype(np.float64)
    probs = softmax_with_temperature(z)
    order = np.argsort(-z, kind="stable")
    keep = np.zeros(len(z), dtype=bool)
    keep[order] = np.cumsum(probs[order]) < p
    return np.where(keep, z, -np.inf).astype(np.float32 if logits.dtype == np.float32 else np.float64)
""",
    ),
    dict(
        name="top_p keeps entries whose mass above equals p (<= instead of <)",
        cell="top_p_filter",
        catches={"test_top_p_filter"},
        code="""
def top_p_filter(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    logits = np.asarray(logits)
    z = logits.astype(np.float64)
    probs = softmax_with_temperature(z)
    order = np.argsort(z)
    mass = np.append(np.cumsum(probs[order][::-1])[::-1], 0.0)
    above = mass[np.searchsorted(z[order], z, side="right")]
    return np.where(above <= p, z, -np.inf).astype(np.float32 if logits.dtype == np.float32 else np.float64)
""",
    ),
    dict(
        name="top_p accepts p outside (0, 1]",
        cell="top_p_filter",
        catches={"test_top_p_edges"},
        code="""
def top_p_filter(logits, p):
    logits = np.asarray(logits)
    z = logits.astype(np.float64)
    probs = softmax_with_temperature(z)
    order = np.argsort(z)
    mass = np.append(np.cumsum(probs[order][::-1])[::-1], 0.0)
    above = mass[np.searchsorted(z[order], z, side="right")]
    return np.where(above < p, z, -np.inf).astype(np.float32 if logits.dtype == np.float32 else np.float64)
""",
    ),
    dict(
        name="top_p returns the logits in sorted order",
        cell="top_p_filter",
        catches={"test_top_p_filter", "test_top_p_edges"},
        code="""
def top_p_filter(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    logits = np.asarray(logits)
    z = np.sort(logits.astype(np.float64))[::-1]
    probs = softmax_with_temperature(z)
    before = np.cumsum(probs) - probs
    return np.where(before < p, z, -np.inf).astype(np.float32 if logits.dtype == np.float32 else np.float64)
""",
    ),
    dict(
        name="top_p treats the logits as probabilities",
        cell="top_p_filter",
        catches={"test_top_p_filter"},
        code="""
def top_p_filter(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    logits = np.asarray(logits)
    z = logits.astype(np.float64)
    order = np.argsort(z)
    mass = np.append(np.cumsum(z[order][::-1])[::-1], 0.0)
    above = mass[np.searchsorted(z[order], z, side="right")]
    return np.where(above < p, z, -np.inf).astype(np.float32 if logits.dtype == np.float32 else np.float64)
""",
    ),
    dict(
        name="top_p sets the dropped logits to 0",
        cell="top_p_filter",
        catches={"test_top_p_filter", "test_top_p_edges"},
        code="""
def top_p_filter(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    logits = np.asarray(logits)
    z = logits.astype(np.float64)
    probs = softmax_with_temperature(z)
    order = np.argsort(z)
    mass = np.append(np.cumsum(probs[order][::-1])[::-1], 0.0)
    above = mass[np.searchsorted(z[order], z, side="right")]
    return np.where(above < p, z, 0.0).astype(np.float32 if logits.dtype == np.float32 else np.float64)
""",
    ),
    # --- false positives closed by the tests aimed at them ---------------------------
    dict(
        name="entropy returns a Python float for a 1-D input (float32 lost)",
        cell="entropy",
        catches={"test_entropy_axis_dtype"},
        code="""
def entropy(p, axis=-1):
    p = np.asarray(p)
    p = p if p.dtype == np.float32 else p.astype(np.float64)
    h = -np.sum(scipy.special.xlogy(p, p), axis=axis)
    return float(h) if h.ndim == 0 else h
""",
    ),
    dict(
        name="sample ignores the temperature for single draws (size=None)",
        cell="sample",
        catches={"test_sample_temperature_extremes"},
        code="""
def sample(logits, temperature=1.0, rng=None, size=None):
    rng = np.random.default_rng() if rng is None else rng
    z = np.asarray(logits, dtype=np.float64)
    if size is None:
        return int(rng.choice(len(z), p=softmax_with_temperature(z)))
    return rng.choice(len(z), size=size, p=softmax_with_temperature(z, temperature))
""",
    ),
    dict(
        name="top_k returns the caller's own array when k >= len(logits)",
        cell="top_k_filter",
        catches={"test_top_k_edges"},
        code="""
def top_k_filter(logits, k):
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k!r}")
    logits = np.asarray(logits)
    if logits.ndim != 1:
        raise ValueError("logits must be 1-D")
    if logits.dtype not in (np.float32, np.float64):
        logits = logits.astype(np.float64)
    if k >= len(logits):
        return logits
    kth_largest = np.sort(logits)[len(logits) - k]
    return np.where(logits < kth_largest, -np.inf, logits).astype(logits.dtype)
""",
    ),
]
