"""Chapter 07: wrong answers students really write, and the tests that must catch them.

Each entry replaces one solution cell (``cell`` is its grade_id) of an otherwise
correct submission; ``catches`` names the tests that must then fail. The memory
mistakes (the full logits or scores built after all, every block kept) must fail the
tests that measure a call's peak memory in the student's process.
"""

ASSIGNMENT = "07-softmax-at-scale"

MISTAKES = [
    # ---- merge_partials ------------------------------------------------------
    dict(
        name="merge_partials does not rescale the old sum",
        cell="merge_partials",
        catches={"test_merge_order", "test_merge_values"},
        code="""
def merge_partials(m_a, s_a, m_b, s_b):
    parts = [np.asarray(x) for x in (m_a, s_a, m_b, s_b)]
    dtype = np.float32 if all(x.dtype == np.float32 for x in parts) else np.float64
    m_a, s_a, m_b, s_b = (x.astype(dtype, copy=False) for x in parts)
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, dtype(0))  # both empty: -inf - (-inf) would be NaN
    with np.errstate(over="ignore"):  # only reached when m is +inf: the sum is +inf anyway
        s = s_a + s_b * np.exp(m_b - shift)
    return m, s
""",
    ),
    dict(
        name="merge_partials without the shift guard: NaN for two empty blocks",
        cell="merge_partials",
        catches={"test_merge_empty_blocks"},
        code="""
def merge_partials(m_a, s_a, m_b, s_b):
    m = np.maximum(m_a, m_b)
    return m, s_a * np.exp(m_a - m) + s_b * np.exp(m_b - m)
""",
    ),
    dict(
        name="merge_partials adds the sums without rescaling either",
        cell="merge_partials",
        catches={"test_merge_values"},
        code="""
def merge_partials(m_a, s_a, m_b, s_b):
    return np.maximum(m_a, m_b), np.add(s_a, s_b)
""",
    ),
    dict(
        name="merge_partials rescales the wrong way, exp(m - m_a)",
        cell="merge_partials",
        catches={"test_merge_values"},
        code="""
def merge_partials(m_a, s_a, m_b, s_b):
    parts = [np.asarray(x) for x in (m_a, s_a, m_b, s_b)]
    dtype = np.float32 if all(x.dtype == np.float32 for x in parts) else np.float64
    m_a, s_a, m_b, s_b = (x.astype(dtype, copy=False) for x in parts)
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, dtype(0))  # both empty: -inf - (-inf) would be NaN
    with np.errstate(over="ignore"):  # only reached when m is +inf: the sum is +inf anyway
        s = s_a * np.exp(shift - m_a) + s_b * np.exp(shift - m_b)
    return m, s
""",
    ),
    dict(
        name="merge_partials takes one maximum over all entries (max, not np.maximum)",
        cell="merge_partials",
        catches={"test_merge_values"},
        code="""
def merge_partials(m_a, s_a, m_b, s_b):
    parts = [np.asarray(x) for x in (m_a, s_a, m_b, s_b)]
    dtype = np.float32 if all(x.dtype == np.float32 for x in parts) else np.float64
    m_a, s_a, m_b, s_b = (x.astype(dtype, copy=False) for x in parts)
    m = max(np.max(m_a), np.max(m_b))
    shift = np.where(np.isfinite(m), m, dtype(0))  # both empty: -inf - (-inf) would be NaN
    with np.errstate(over="ignore"):  # only reached when m is +inf: the sum is +inf anyway
        s = s_a * np.exp(m_a - shift) + s_b * np.exp(m_b - shift)
    return m, s
""",
    ),
    dict(
        name="merge_partials always returns float64",
        cell="merge_partials",
        catches={"test_merge_dtype"},
        code="""
def merge_partials(m_a, s_a, m_b, s_b):
    parts = [np.asarray(x) for x in (m_a, s_a, m_b, s_b)]
    dtype = np.float64
    m_a, s_a, m_b, s_b = (x.astype(dtype, copy=False) for x in parts)
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, dtype(0))  # both empty: -inf - (-inf) would be NaN
    with np.errstate(over="ignore"):  # only reached when m is +inf: the sum is +inf anyway
        s = s_a * np.exp(m_a - shift) + s_b * np.exp(m_b - shift)
    return m, s
""",
    ),
    # ---- online_logsumexp ----------------------------------------------------
    dict(
        name="online_logsumexp keeps every block (np.concatenate of them all)",
        cell="online_logsumexp",
        catches={"test_online_memory"},
        code="""
def online_logsumexp(blocks):
    blocks = [np.asarray(b) for b in blocks]
    for b in blocks:
        if b.ndim != 1:
            raise ValueError("blocks must be 1-D")
    if not blocks:
        return np.float64(-np.inf)
    z = np.concatenate(blocks)
    dtype = np.float32 if all(b.dtype == np.float32 for b in blocks) else np.float64
    return dtype(scipy.special.logsumexp(z.astype(np.float64))) if z.size else dtype(-np.inf)
""",
    ),
    dict(
        name="online_logsumexp does not rescale the running sum when the maximum grows",
        cell="online_logsumexp",
        catches={"test_online_values"},
        code="""
def online_logsumexp(blocks):
    m, s, all32, seen = -np.inf, 0.0, True, False
    for block in blocks:
        b = np.asarray(block)
        if b.ndim != 1:
            raise ValueError("blocks must be 1-D")
        seen, all32 = True, all32 and b.dtype == np.float32
        if b.size == 0 or np.all(b == -np.inf):
            continue
        m = max(m, float(b.max()))
        s += float(np.exp(b.astype(np.float64) - m).sum())  # the old sum keeps its old maximum
    with np.errstate(divide="ignore"):
        result = m + np.log(s)
    return np.float32(result) if seen and all32 else np.float64(result)
""",
    ),
    dict(
        name="online_logsumexp reads the blocks twice (max first, then the sum)",
        cell="online_logsumexp",
        catches={"test_online_memory", "test_online_generator"},
        code="""
def online_logsumexp(blocks):
    m, all32, seen = -np.inf, True, False
    for block in blocks:
        b = np.asarray(block)
        if b.ndim != 1:
            raise ValueError("blocks must be 1-D")
        seen, all32 = True, all32 and b.dtype == np.float32
        if b.size:
            m = max(m, float(b.max()))
    shift = m if np.isfinite(m) else 0.0
    s = 0.0
    for block in blocks:  # a second pass: empty for a generator
        s += float(np.exp(np.asarray(block, dtype=np.float64) - shift).sum())
    with np.errstate(divide="ignore"):
        result = shift + np.log(s) if np.isfinite(m) else m
    return np.float32(result) if seen and all32 else np.float64(result)
""",
    ),
    dict(
        name="online_logsumexp gives NaN for all -inf blocks (no shift guard)",
        cell="online_logsumexp",
        catches={"test_online_infinities"},
        code="""
def online_logsumexp(blocks):
    m, s = np.float64(-np.inf), np.float64(0.0)
    all_float32, seen = True, False
    for block in blocks:
        b = np.asarray(block)
        if b.ndim != 1:
            raise ValueError(f"every block must be 1-D, got one of shape {b.shape}")
        seen = True
        all_float32 &= b.dtype == np.float32
        if b.size == 0:
            continue
        top = b.max()
        shift = top  # an all -inf block: exp(-inf) = 0
        with np.errstate(over="ignore"):  # only when the block holds +inf
            total = np.exp(b - shift, dtype=np.float64).sum()
        m, s = merge_partials(m, s, np.float64(top), total)
    with np.errstate(divide="ignore"):  # log(0) = -inf for the empty sum
        result = m + np.log(s)
    return np.float32(result) if seen and all_float32 else np.float64(result)
""",
    ),
    dict(
        name="online_logsumexp averages the per-block log-sum-exps instead of merging them",
        cell="online_logsumexp",
        catches={"test_online_values"},
        code="""
def online_logsumexp(blocks):
    values, all32, seen = [], True, False
    for block in blocks:
        b = np.asarray(block)
        if b.ndim != 1:
            raise ValueError("blocks must be 1-D")
        seen, all32 = True, all32 and b.dtype == np.float32
        if b.size:
            values.append(scipy.special.logsumexp(b.astype(np.float64)))
    result = np.mean(values) if values else -np.inf
    return np.float32(result) if seen and all32 else np.float64(result)
""",
    ),
    dict(
        name="online_logsumexp fails on no blocks (max of an empty list)",
        cell="online_logsumexp",
        catches={"test_online_infinities"},
        code="""
def online_logsumexp(blocks):
    parts = []
    for block in blocks:
        b = np.asarray(block, dtype=np.float64)
        if b.ndim != 1:
            raise ValueError("blocks must be 1-D")
        if b.size:
            top = b.max()
            parts.append((top, np.exp(b - top).sum()))
    m = max(p[0] for p in parts)
    s = sum(p[1] * np.exp(p[0] - m) for p in parts)
    return np.float64(m + np.log(s))
""",
    ),
    dict(
        name="online_logsumexp always returns float64",
        cell="online_logsumexp",
        catches={"test_online_memory", "test_online_values"},
        code="""
def online_logsumexp(blocks):
    m, s = np.float64(-np.inf), np.float64(0.0)
    all_float32, seen = True, False
    for block in blocks:
        b = np.asarray(block)
        if b.ndim != 1:
            raise ValueError(f"every block must be 1-D, got one of shape {b.shape}")
        seen = True
        all_float32 &= b.dtype == np.float32
        if b.size == 0:
            continue
        top = b.max()
        shift = top if np.isfinite(top) else 0.0  # an all -inf block: exp(-inf) = 0
        with np.errstate(over="ignore"):  # only when the block holds +inf
            total = np.exp(b - shift, dtype=np.float64).sum()
        m, s = merge_partials(m, s, np.float64(top), total)
    with np.errstate(divide="ignore"):  # log(0) = -inf for the empty sum
        result = m + np.log(s)
    return np.float64(result)
""",
    ),
    # ---- chunked_cross_entropy -----------------------------------------------
    dict(
        name="chunked_cross_entropy builds the full logits after all",
        cell="chunked_cross_entropy",
        catches={"test_chunked_ce_memory"},
        code="""
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError("shapes do not fit")
    if y.shape != (h.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= w.shape[0]:
        raise ValueError("bad targets")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    z = h @ w.T
    return float(np.mean(scipy.special.logsumexp(z, axis=1) - z[np.arange(len(y)), y]))
""",
    ),
    dict(
        name="chunked_cross_entropy averages the per-chunk log-sum-exps instead of merging them",
        cell="chunked_cross_entropy",
        catches={"test_chunked_ce_values"},
        code="""
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    lses = []
    s = np.zeros(n, dtype=dtype)          # running sum of exp(z - m) of each row
    target_logit = np.empty(n, dtype=dtype)
    for start in range(0, v, chunk_size):
        z = h @ w[start:start + chunk_size].T            # (N, C): this chunk's logits only
        here = (y >= start) & (y < start + z.shape[1])    # rows whose target is in the chunk
        target_logit[here] = z[here, y[here] - start]
        lses.append(scipy.special.logsumexp(z, axis=1))
    return float(np.mean(np.mean(lses, axis=0) - target_logit))
""",
    ),
    dict(
        name="chunked_cross_entropy drops the last class of every chunk (off by one)",
        cell="chunked_cross_entropy",
        catches={"test_chunked_ce_values", "test_chunked_ce_memory"},
        code="""
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)  # running maximum of each row
    s = np.zeros(n, dtype=dtype)          # running sum of exp(z - m) of each row
    target_logit = np.empty(n, dtype=dtype)
    for start in range(0, v, chunk_size):
        z = h @ w[start:start + chunk_size - 1].T            # (N, C): this chunk's logits only
        here = (y >= start) & (y < start + z.shape[1])    # rows whose target is in the chunk
        target_logit[here] = z[here, y[here] - start]
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)         # rescale the old sum, add the new
        m = new_m
    return float(np.mean((m - target_logit) + np.log(s)))
""",
    ),
    dict(
        name="chunked_cross_entropy looks the target logit up in the last chunk",
        cell="chunked_cross_entropy",
        catches={"test_chunked_ce_values"},
        code="""
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)  # running maximum of each row
    s = np.zeros(n, dtype=dtype)          # running sum of exp(z - m) of each row
    target_logit = np.empty(n, dtype=dtype)
    for start in range(0, v, chunk_size):
        z = h @ w[start:start + chunk_size].T            # (N, C): this chunk's logits only
        target_logit = z[np.arange(n), y % z.shape[1]]
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)         # rescale the old sum, add the new
        m = new_m
    return float(np.mean((m - target_logit) + np.log(s)))
""",
    ),
    dict(
        name="chunked_cross_entropy does not rescale the running sum",
        cell="chunked_cross_entropy",
        catches={"test_chunked_ce_values"},
        code="""
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)  # running maximum of each row
    s = np.zeros(n, dtype=dtype)          # running sum of exp(z - m) of each row
    target_logit = np.empty(n, dtype=dtype)
    for start in range(0, v, chunk_size):
        z = h @ w[start:start + chunk_size].T            # (N, C): this chunk's logits only
        here = (y >= start) & (y < start + z.shape[1])    # rows whose target is in the chunk
        target_logit[here] = z[here, y[here] - start]
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s + z.sum(axis=1)         # rescale the old sum, add the new
        m = new_m
    return float(np.mean((m - target_logit) + np.log(s)))
""",
    ),
    dict(
        name="chunked_cross_entropy returns numpy.float64",
        cell="chunked_cross_entropy",
        catches={"test_chunked_ce_float"},
        code="""
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)  # running maximum of each row
    s = np.zeros(n, dtype=dtype)          # running sum of exp(z - m) of each row
    target_logit = np.empty(n, dtype=dtype)
    for start in range(0, v, chunk_size):
        z = h @ w[start:start + chunk_size].T            # (N, C): this chunk's logits only
        here = (y >= start) & (y < start + z.shape[1])    # rows whose target is in the chunk
        target_logit[here] = z[here, y[here] - start]
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)         # rescale the old sum, add the new
        m = new_m
    return np.mean((m - target_logit) + np.log(s)).astype(np.float64)
""",
    ),
    dict(
        name="chunked_cross_entropy does not check chunk_size",
        cell="chunked_cross_entropy",
        catches={"test_chunked_ce_errors"},
        code="""
def chunked_cross_entropy(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    m = np.full(n, -np.inf, dtype=dtype)  # running maximum of each row
    s = np.zeros(n, dtype=dtype)          # running sum of exp(z - m) of each row
    target_logit = np.empty(n, dtype=dtype)
    for start in range(0, v, chunk_size):
        z = h @ w[start:start + chunk_size].T            # (N, C): this chunk's logits only
        here = (y >= start) & (y < start + z.shape[1])    # rows whose target is in the chunk
        target_logit[here] = z[here, y[here] - start]
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)         # rescale the old sum, add the new
        m = new_m
    return float(np.mean((m - target_logit) + np.log(s)))
""",
    ),
    # ---- chunked_cross_entropy_grad ------------------------------------------
    dict(
        name="chunked_cross_entropy_grad builds the full logits after all",
        cell="chunked_cross_entropy_grad",
        catches={"test_chunked_ce_grad_memory"},
        code="""
def chunked_cross_entropy_grad(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype), w.astype(dtype)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError("shapes do not fit")
    if y.shape != (h.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= w.shape[0]:
        raise ValueError("bad targets")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    g = scipy.special.softmax(h @ w.T, axis=1)
    g[np.arange(len(y)), y] -= 1
    g /= len(y)
    return g @ w, g.T @ h
""",
    ),
    dict(
        name="chunked_cross_entropy_grad normalises each chunk by its own log-sum-exp",
        cell="chunked_cross_entropy_grad",
        catches={"test_chunked_ce_grad_values"},
        code="""
def chunked_cross_entropy_grad(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)
    s = np.zeros(n, dtype=dtype)
    for start in range(0, v, chunk_size):                 # pass 1: each row's log-sum-exp
        z = h @ w[start:start + chunk_size].T
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)
        m = new_m
    lse = m + np.log(s)
    grad_h = np.zeros_like(h)
    grad_w = np.empty_like(w)
    for start in range(0, v, chunk_size):                 # pass 2: recompute, differentiate
        wc = w[start:start + chunk_size]
        g = h @ wc.T
        g = scipy.special.softmax(g, axis=1)                                  # softmax of this chunk's classes
        here = np.flatnonzero((y >= start) & (y < start + g.shape[1]))
        g[here, y[here] - start] -= 1                     # minus one_hot(targets)
        g /= n
        grad_h += g @ wc
        grad_w[start:start + chunk_size] = g.T @ h
    return grad_h, grad_w
""",
    ),
    dict(
        name="chunked_cross_entropy_grad subtracts the one-hot in every chunk at column y % C",
        cell="chunked_cross_entropy_grad",
        catches={"test_chunked_ce_grad_values"},
        code="""
def chunked_cross_entropy_grad(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)
    s = np.zeros(n, dtype=dtype)
    for start in range(0, v, chunk_size):                 # pass 1: each row's log-sum-exp
        z = h @ w[start:start + chunk_size].T
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)
        m = new_m
    lse = m + np.log(s)
    grad_h = np.zeros_like(h)
    grad_w = np.empty_like(w)
    for start in range(0, v, chunk_size):                 # pass 2: recompute, differentiate
        wc = w[start:start + chunk_size]
        g = h @ wc.T
        g -= lse[:, None]
        np.exp(g, out=g)                                  # softmax of this chunk's classes
        here = np.flatnonzero((y >= start) & (y < start + g.shape[1]))
        g[np.arange(n), y % g.shape[1]] -= 1                     # minus one_hot(targets)
        g /= n
        grad_h += g @ wc
        grad_w[start:start + chunk_size] = g.T @ h
    return grad_h, grad_w
""",
    ),
    dict(
        name="chunked_cross_entropy_grad forgets the 1/N of the mean",
        cell="chunked_cross_entropy_grad",
        catches={"test_chunked_ce_grad_values"},
        code="""
def chunked_cross_entropy_grad(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)
    s = np.zeros(n, dtype=dtype)
    for start in range(0, v, chunk_size):                 # pass 1: each row's log-sum-exp
        z = h @ w[start:start + chunk_size].T
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)
        m = new_m
    lse = m + np.log(s)
    grad_h = np.zeros_like(h)
    grad_w = np.empty_like(w)
    for start in range(0, v, chunk_size):                 # pass 2: recompute, differentiate
        wc = w[start:start + chunk_size]
        g = h @ wc.T
        g -= lse[:, None]
        np.exp(g, out=g)                                  # softmax of this chunk's classes
        here = np.flatnonzero((y >= start) & (y < start + g.shape[1]))
        g[here, y[here] - start] -= 1                     # minus one_hot(targets)
        grad_h += g @ wc
        grad_w[start:start + chunk_size] = g.T @ h
    return grad_h, grad_w
""",
    ),
    dict(
        name="chunked_cross_entropy_grad keeps every chunk's gradient and stacks them",
        cell="chunked_cross_entropy_grad",
        catches={"test_chunked_ce_grad_memory"},
        code="""
def chunked_cross_entropy_grad(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float32 if h.dtype == np.float32 and w.dtype == np.float32 else np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)
    s = np.zeros(n, dtype=dtype)
    for start in range(0, v, chunk_size):                 # pass 1: each row's log-sum-exp
        z = h @ w[start:start + chunk_size].T
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)
        m = new_m
    lse = m + np.log(s)
    chunks = []
    for start in range(0, v, chunk_size):                 # pass 2: recompute, differentiate
        wc = w[start:start + chunk_size]
        g = h @ wc.T
        g -= lse[:, None]
        np.exp(g, out=g)                                  # softmax of this chunk's classes
        here = np.flatnonzero((y >= start) & (y < start + g.shape[1]))
        g[here, y[here] - start] -= 1                     # minus one_hot(targets)
        g /= n
        chunks.append(g)
    g = np.concatenate(chunks, axis=1)
    return g @ w, g.T @ h
""",
    ),
    dict(
        name="chunked_cross_entropy_grad always returns float64",
        cell="chunked_cross_entropy_grad",
        catches={"test_chunked_ce_grad_dtype"},
        code="""
def chunked_cross_entropy_grad(hidden, weight, targets, chunk_size=1024):
    h, w, y = np.asarray(hidden), np.asarray(weight), np.asarray(targets)
    dtype = np.float64
    h, w = h.astype(dtype, copy=False), w.astype(dtype, copy=False)
    if h.ndim != 2 or w.ndim != 2 or h.shape[1] != w.shape[1]:
        raise ValueError(f"hidden (N, d) and weight (V, d) do not fit: shapes {h.shape} and {w.shape}")
    (n, _), v = h.shape, w.shape[0]
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"targets must be {n} integers, one per row of hidden; got {y.dtype} {y.shape}")
    if n == 0 or v == 0 or y.min() < 0 or y.max() >= v:
        raise ValueError(f"targets must lie in [0, {v}) and N must be >= 1")
    if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    m = np.full(n, -np.inf, dtype=dtype)
    s = np.zeros(n, dtype=dtype)
    for start in range(0, v, chunk_size):                 # pass 1: each row's log-sum-exp
        z = h @ w[start:start + chunk_size].T
        new_m = np.maximum(m, z.max(axis=1))
        z -= new_m[:, None]
        np.exp(z, out=z)
        s = s * np.exp(m - new_m) + z.sum(axis=1)
        m = new_m
    lse = m + np.log(s)
    grad_h = np.zeros_like(h)
    grad_w = np.empty_like(w)
    for start in range(0, v, chunk_size):                 # pass 2: recompute, differentiate
        wc = w[start:start + chunk_size]
        g = h @ wc.T
        g -= lse[:, None]
        np.exp(g, out=g)                                  # softmax of this chunk's classes
        here = np.flatnonzero((y >= start) & (y < start + g.shape[1]))
        g[here, y[here] - start] -= 1                     # minus one_hot(targets)
        g /= n
        grad_h += g @ wc
        grad_w[start:start + chunk_size] = g.T @ h
    return grad_h, grad_w
""",
    ),
    # ---- flash_attention -----------------------------------------------------
    dict(
        name="flash_attention builds the full score matrix after all",
        cell="flash_attention",
        catches={"test_flash_memory"},
        code="""
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError("shapes do not fit")
    if block_size < 1:
        raise ValueError("block_size must be >= 1")
    if mask is not None and np.asarray(mask).dtype != bool:
        raise ValueError("mask must be boolean")
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    top = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    return (e / np.where(total > 0, total, 1)) @ v
""",
    ),
    dict(
        name="flash_attention does not rescale the running sum and output",
        cell="flash_attention",
        catches={"test_flash_values"},
        code="""
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if all(x.dtype == np.float32 for x in (q, k, v)) else np.float64
    q, k, v = (x.astype(dtype, copy=False) for x in (q, k, v))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q (..., Lq, d), k (..., Lk, d) and v (..., Lk, dv) do not fit: "
                         f"shapes {q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading (batch) axes of q, k and v do not broadcast: "
                         f"{q.shape}, {k.shape}, {v.shape}") from None
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    (lq, d), lk = q.shape[-2:], k.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, batch + (lq, lk))
        except ValueError:
            raise ValueError(f"a mask of shape {mask.shape} does not broadcast to the scores' "
                             f"shape {batch + (lq, lk)}") from None
    q = q * (1 / math.sqrt(d))                       # a Python float keeps float32
    m = np.full(batch + (lq, 1), -np.inf, dtype=dtype)  # running max of each query's scores
    l = np.zeros(batch + (lq, 1), dtype=dtype)          # running sum of exp(score - m)
    acc = np.zeros(batch + (lq, v.shape[-1]), dtype=dtype)  # running sum of exp(score - m) v
    for start in range(0, lk, block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2)  # (..., Lq, B)
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        new_m = np.maximum(m, s.max(axis=-1, keepdims=True))
        shift = np.where(np.isfinite(new_m), new_m, 0)  # rows masked so far: exp(-inf) = 0
        s -= shift
        np.exp(s, out=s)
        alpha = np.exp(m - shift)                        # rescales what came before
        l = l + s.sum(axis=-1, keepdims=True)
        acc += s @ v[..., start:start + block_size, :]
        m = new_m
    return acc / np.where(l > 0, l, 1)
""",
    ),
    dict(
        name="flash_attention rescales the running sum but not the output",
        cell="flash_attention",
        catches={"test_flash_values"},
        code="""
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if all(x.dtype == np.float32 for x in (q, k, v)) else np.float64
    q, k, v = (x.astype(dtype, copy=False) for x in (q, k, v))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q (..., Lq, d), k (..., Lk, d) and v (..., Lk, dv) do not fit: "
                         f"shapes {q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading (batch) axes of q, k and v do not broadcast: "
                         f"{q.shape}, {k.shape}, {v.shape}") from None
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    (lq, d), lk = q.shape[-2:], k.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, batch + (lq, lk))
        except ValueError:
            raise ValueError(f"a mask of shape {mask.shape} does not broadcast to the scores' "
                             f"shape {batch + (lq, lk)}") from None
    q = q * (1 / math.sqrt(d))                       # a Python float keeps float32
    m = np.full(batch + (lq, 1), -np.inf, dtype=dtype)  # running max of each query's scores
    l = np.zeros(batch + (lq, 1), dtype=dtype)          # running sum of exp(score - m)
    acc = np.zeros(batch + (lq, v.shape[-1]), dtype=dtype)  # running sum of exp(score - m) v
    for start in range(0, lk, block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2)  # (..., Lq, B)
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        new_m = np.maximum(m, s.max(axis=-1, keepdims=True))
        shift = np.where(np.isfinite(new_m), new_m, 0)  # rows masked so far: exp(-inf) = 0
        s -= shift
        np.exp(s, out=s)
        alpha = np.exp(m - shift)                        # rescales what came before
        l = l * alpha + s.sum(axis=-1, keepdims=True)
        acc += s @ v[..., start:start + block_size, :]
        m = new_m
    return acc / np.where(l > 0, l, 1)
""",
    ),
    dict(
        name="flash_attention without the shift guard: NaN for masked rows",
        cell="flash_attention",
        catches={"test_flash_mask"},
        code="""
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if all(x.dtype == np.float32 for x in (q, k, v)) else np.float64
    q, k, v = (x.astype(dtype, copy=False) for x in (q, k, v))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q (..., Lq, d), k (..., Lk, d) and v (..., Lk, dv) do not fit: "
                         f"shapes {q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading (batch) axes of q, k and v do not broadcast: "
                         f"{q.shape}, {k.shape}, {v.shape}") from None
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    (lq, d), lk = q.shape[-2:], k.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, batch + (lq, lk))
        except ValueError:
            raise ValueError(f"a mask of shape {mask.shape} does not broadcast to the scores' "
                             f"shape {batch + (lq, lk)}") from None
    q = q * (1 / math.sqrt(d))                       # a Python float keeps float32
    m = np.full(batch + (lq, 1), -np.inf, dtype=dtype)  # running max of each query's scores
    l = np.zeros(batch + (lq, 1), dtype=dtype)          # running sum of exp(score - m)
    acc = np.zeros(batch + (lq, v.shape[-1]), dtype=dtype)  # running sum of exp(score - m) v
    for start in range(0, lk, block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2)  # (..., Lq, B)
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        new_m = np.maximum(m, s.max(axis=-1, keepdims=True))
        shift = new_m  # rows masked so far: exp(-inf) = 0
        s -= shift
        np.exp(s, out=s)
        alpha = np.exp(m - shift)                        # rescales what came before
        l = l * alpha + s.sum(axis=-1, keepdims=True)
        acc *= alpha
        acc += s @ v[..., start:start + block_size, :]
        m = new_m
    return acc / np.where(l > 0, l, 1)
""",
    ),
    dict(
        name="flash_attention forgets the 1/sqrt(d) scaling",
        cell="flash_attention",
        catches={"test_flash_values"},
        code="""
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if all(x.dtype == np.float32 for x in (q, k, v)) else np.float64
    q, k, v = (x.astype(dtype, copy=False) for x in (q, k, v))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q (..., Lq, d), k (..., Lk, d) and v (..., Lk, dv) do not fit: "
                         f"shapes {q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading (batch) axes of q, k and v do not broadcast: "
                         f"{q.shape}, {k.shape}, {v.shape}") from None
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    (lq, d), lk = q.shape[-2:], k.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, batch + (lq, lk))
        except ValueError:
            raise ValueError(f"a mask of shape {mask.shape} does not broadcast to the scores' "
                             f"shape {batch + (lq, lk)}") from None
    q = q * 1                       # a Python float keeps float32
    m = np.full(batch + (lq, 1), -np.inf, dtype=dtype)  # running max of each query's scores
    l = np.zeros(batch + (lq, 1), dtype=dtype)          # running sum of exp(score - m)
    acc = np.zeros(batch + (lq, v.shape[-1]), dtype=dtype)  # running sum of exp(score - m) v
    for start in range(0, lk, block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2)  # (..., Lq, B)
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        new_m = np.maximum(m, s.max(axis=-1, keepdims=True))
        shift = np.where(np.isfinite(new_m), new_m, 0)  # rows masked so far: exp(-inf) = 0
        s -= shift
        np.exp(s, out=s)
        alpha = np.exp(m - shift)                        # rescales what came before
        l = l * alpha + s.sum(axis=-1, keepdims=True)
        acc *= alpha
        acc += s @ v[..., start:start + block_size, :]
        m = new_m
    return acc / np.where(l > 0, l, 1)
""",
    ),
    dict(
        name="flash_attention averages per-block softmax outputs",
        cell="flash_attention",
        catches={"test_flash_values"},
        code="""
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q, dtype=float), np.asarray(k, dtype=float), np.asarray(v, dtype=float)
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError("shapes do not fit")
    if block_size < 1:
        raise ValueError("block_size must be >= 1")
    outs = []
    for start in range(0, k.shape[-2], block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2) / math.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(np.broadcast_to(mask, s.shape[:-1] + (k.shape[-2],))[..., start:start + block_size], s, -np.inf)
        top = s.max(axis=-1, keepdims=True)
        e = np.exp(s - np.where(np.isfinite(top), top, 0))
        outs.append(e / np.maximum(e.sum(axis=-1, keepdims=True), 1e-300) @ v[..., start:start + block_size, :])
    return np.mean(outs, axis=0)
""",
    ),
    dict(
        name="flash_attention loses float32 (np.sqrt scaling)",
        cell="flash_attention",
        catches={"test_flash_dtype_and_errors"},
        code="""
def flash_attention(q, k, v, mask=None, block_size=64):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    dtype = np.float32 if all(x.dtype == np.float32 for x in (q, k, v)) else np.float64
    q, k, v = (x.astype(dtype, copy=False) for x in (q, k, v))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q (..., Lq, d), k (..., Lk, d) and v (..., Lk, dv) do not fit: "
                         f"shapes {q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading (batch) axes of q, k and v do not broadcast: "
                         f"{q.shape}, {k.shape}, {v.shape}") from None
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    (lq, d), lk = q.shape[-2:], k.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, batch + (lq, lk))
        except ValueError:
            raise ValueError(f"a mask of shape {mask.shape} does not broadcast to the scores' "
                             f"shape {batch + (lq, lk)}") from None
    q = q / np.sqrt(d)                       # a Python float keeps float32
    m = np.full(batch + (lq, 1), -np.inf, dtype=dtype)  # running max of each query's scores
    l = np.zeros(batch + (lq, 1), dtype=dtype)          # running sum of exp(score - m)
    acc = np.zeros(batch + (lq, v.shape[-1]), dtype=dtype)  # running sum of exp(score - m) v
    for start in range(0, lk, block_size):
        s = q @ np.swapaxes(k[..., start:start + block_size, :], -1, -2)  # (..., Lq, B)
        if mask is not None:
            s = np.where(mask[..., start:start + block_size], s, -np.inf)
        new_m = np.maximum(m, s.max(axis=-1, keepdims=True))
        shift = np.where(np.isfinite(new_m), new_m, 0)  # rows masked so far: exp(-inf) = 0
        s -= shift
        np.exp(s, out=s)
        alpha = np.exp(m - shift)                        # rescales what came before
        l = l * alpha + s.sum(axis=-1, keepdims=True)
        acc *= alpha
        acc += s @ v[..., start:start + block_size, :]
        m = new_m
    return acc / np.where(l > 0, l, 1)
""",
    ),
]
