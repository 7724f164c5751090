"""Chapter 05: wrong answers students really write, and the tests that must catch them.

Each entry replaces one solution cell (``cell`` is its grade_id) of an otherwise
correct submission; ``catches`` names the tests that must then fail.
"""

ASSIGNMENT = "05-cross-entropy"

# The argument checks a careful student writes; most mistakes below keep them, so
# that only the mistake itself is graded.
CHECKS = """
def _checked(logits, targets, float32_ok=False):
    z = np.asarray(logits)
    z = z if (float32_ok and z.dtype == np.float32) else z.astype(np.float64)
    y = np.asarray(targets)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    if y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError("targets must be N integers")
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise ValueError("targets out of range")
    return z, y
"""

MISTAKES = [
    # ---- cross_entropy -------------------------------------------------------------
    dict(
        name="cross_entropy as -log(softmax(z)) (inf for large logits)",
        cell="cross_entropy",
        catches={"test_cross_entropy_large_logits"},
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return float(np.mean(-np.log(p[np.arange(len(y)), y])))
""",
    ),
    dict(
        name="cross_entropy without the max (exp overflows)",
        cell="cross_entropy",
        catches={"test_cross_entropy_large_logits"},
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))
""",
    ),
    dict(
        name="cross_entropy sums the row losses instead of averaging",
        cell="cross_entropy",
        catches={
            "test_cross_entropy_values",
            "test_cross_entropy_batch",
            "test_cross_entropy_grad_gradcheck",
        },
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return float(np.sum(lse - z[np.arange(len(y)), y]))
""",
    ),
    dict(
        name="cross_entropy picks the true logits with z[:, y]",
        cell="cross_entropy",
        catches={"test_cross_entropy_batch", "test_cross_entropy_grad_gradcheck"},
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return float(np.mean(lse - z[:, y]))
""",
    ),
    dict(
        name="cross_entropy returns numpy.float64 (np.mean)",
        cell="cross_entropy",
        catches={"test_cross_entropy_returns_float"},
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return np.mean(lse - z[np.arange(len(y)), y])
""",
    ),
    dict(
        name="cross_entropy returns a 0-d array",
        cell="cross_entropy",
        catches={"test_cross_entropy_returns_float"},
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return np.asarray(np.mean(lse - z[np.arange(len(y)), y]))
""",
    ),
    dict(
        name="cross_entropy forgets the minus sign (mean log-probability)",
        cell="cross_entropy",
        catches={
            "test_cross_entropy_values",
            "test_cross_entropy_large_logits",
            "test_cross_entropy_grad_gradcheck",
        },
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return float(np.mean(z[np.arange(len(y)), y] - lse))
""",
    ),
    dict(
        name="cross_entropy normalises over the batch axis (axis=0)",
        cell="cross_entropy",
        catches={"test_cross_entropy_values", "test_cross_entropy_batch"},
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, targets)
    m = z.max(axis=0)
    lse = m + np.log(np.exp(z - m).sum(axis=0))
    return float(np.mean(lse[y] - z[np.arange(len(y)), y]))
""",
    ),
    dict(
        name="cross_entropy without argument checks",
        cell="cross_entropy",
        catches={"test_cross_entropy_bad_arguments"},
        code="""
def cross_entropy(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets)
    m = z.max(axis=-1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=-1))
    return float(np.mean(lse - z[np.arange(len(z)), y]))
""",
    ),
    dict(
        name="cross_entropy casts float targets to int instead of refusing them",
        cell="cross_entropy",
        catches={"test_cross_entropy_bad_arguments"},
        code=CHECKS
        + """
def cross_entropy(logits, targets):
    z, y = _checked(logits, np.asarray(targets).astype(int))
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))
""",
    ),
    # ---- cross_entropy_grad --------------------------------------------------------
    dict(
        name="cross_entropy_grad without the 1/N of the mean",
        cell="cross_entropy_grad",
        catches={"test_cross_entropy_grad_values", "test_cross_entropy_grad_gradcheck"},
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    z, y = _checked(logits, targets, float32_ok=True)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p
""",
    ),
    dict(
        name="cross_entropy_grad forgets to subtract the one-hot",
        cell="cross_entropy_grad",
        catches={
            "test_cross_entropy_grad_values",
            "test_cross_entropy_grad_gradcheck",
            "test_cross_entropy_grad_large_logits",
        },
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    z, y = _checked(logits, targets, float32_ok=True)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) / len(y)
""",
    ),
    dict(
        name="cross_entropy_grad builds the one-hot with [:, y]",
        cell="cross_entropy_grad",
        catches={"test_cross_entropy_grad_values", "test_cross_entropy_grad_gradcheck"},
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    z, y = _checked(logits, targets, float32_ok=True)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[:, y] -= 1
    return p / len(y)
""",
    ),
    dict(
        name="cross_entropy_grad with the sign flipped (one_hot - softmax)",
        cell="cross_entropy_grad",
        catches={
            "test_cross_entropy_grad_values",
            "test_cross_entropy_grad_gradcheck",
            "test_cross_entropy_grad_large_logits",
        },
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    z, y = _checked(logits, targets, float32_ok=True)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return -p / len(y)
""",
    ),
    dict(
        name="cross_entropy_grad without the max (NaN for large logits)",
        cell="cross_entropy_grad",
        catches={"test_cross_entropy_grad_large_logits"},
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    z, y = _checked(logits, targets, float32_ok=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)
""",
    ),
    dict(
        name="cross_entropy_grad turns float32 into float64",
        cell="cross_entropy_grad",
        catches={"test_cross_entropy_grad_dtype_and_input"},
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    z, y = _checked(logits, targets)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)
""",
    ),
    dict(
        name="cross_entropy_grad subtracts the max in place",
        cell="cross_entropy_grad",
        catches={"test_cross_entropy_grad_dtype_and_input"},
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    _checked(logits, targets)
    z = np.asarray(logits)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    y = np.asarray(targets)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)
""",
    ),
    dict(
        name="cross_entropy_grad takes the softmax over the batch axis",
        cell="cross_entropy_grad",
        catches={"test_cross_entropy_grad_values", "test_cross_entropy_grad_gradcheck"},
        code=CHECKS
        + """
def cross_entropy_grad(logits, targets):
    z, y = _checked(logits, targets, float32_ok=True)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    p = e / e.sum(axis=0, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)
""",
    ),
    dict(
        name="cross_entropy_grad without argument checks",
        cell="cross_entropy_grad",
        catches={"test_cross_entropy_grad_bad_arguments"},
        code="""
def cross_entropy_grad(logits, targets):
    z = np.asarray(logits)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    y = np.asarray(targets)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)
""",
    ),
    # ---- softmax_jacobian ----------------------------------------------------------
    dict(
        name="softmax_jacobian as diag(p) only (outer product missing)",
        cell="softmax_jacobian",
        catches={
            "test_softmax_jacobian_values",
            "test_softmax_jacobian_numerical",
            "test_softmax_jacobian_large_logits",
        },
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    e = np.exp(z - z.max())
    return np.diag(e / e.sum())
""",
    ),
    dict(
        name="softmax_jacobian with p - p^2 on the diagonal only",
        cell="softmax_jacobian",
        catches={
            "test_softmax_jacobian_values",
            "test_softmax_jacobian_numerical",
            "test_softmax_jacobian_large_logits",
        },
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    e = np.exp(z - z.max())
    p = e / e.sum()
    return np.diag(p - p ** 2)
""",
    ),
    dict(
        name="softmax_jacobian with the inner product p @ p instead of the outer",
        cell="softmax_jacobian",
        catches={
            "test_softmax_jacobian_values",
            "test_softmax_jacobian_numerical",
            "test_softmax_jacobian_large_logits",
        },
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    e = np.exp(z - z.max())
    p = e / e.sum()
    return np.diag(p) - p @ p
""",
    ),
    dict(
        name="softmax_jacobian broadcasts p**2 along the rows (p * I - p**2)",
        cell="softmax_jacobian",
        catches={
            "test_softmax_jacobian_values",
            "test_softmax_jacobian_numerical",
            "test_softmax_jacobian_large_logits",
        },
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    e = np.exp(z - z.max())
    p = e / e.sum()
    return p * np.eye(len(p), dtype=p.dtype) - p ** 2
""",
    ),
    dict(
        name="softmax_jacobian as I - p (the Jacobian of log-softmax)",
        cell="softmax_jacobian",
        catches={
            "test_softmax_jacobian_values",
            "test_softmax_jacobian_numerical",
            "test_softmax_jacobian_large_logits",
        },
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    e = np.exp(z - z.max())
    p = e / e.sum()
    return np.eye(len(p), dtype=p.dtype) - p
""",
    ),
    dict(
        name="softmax_jacobian with the wrong sign of the outer product",
        cell="softmax_jacobian",
        catches={
            "test_softmax_jacobian_values",
            "test_softmax_jacobian_numerical",
            "test_softmax_jacobian_large_logits",
        },
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    e = np.exp(z - z.max())
    p = e / e.sum()
    return np.diag(p) + np.outer(p, p)
""",
    ),
    dict(
        name="softmax_jacobian without the max (NaN for large logits)",
        cell="softmax_jacobian",
        catches={"test_softmax_jacobian_large_logits"},
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    p = np.exp(z) / np.exp(z).sum()
    return np.diag(p) - np.outer(p, p)
""",
    ),
    dict(
        name="softmax_jacobian turns float32 into float64",
        cell="softmax_jacobian",
        catches={"test_softmax_jacobian_dtype_and_shape", "test_softmax_jacobian_large_logits"},
        code="""
def softmax_jacobian(z):
    z = np.asarray(z, dtype=float)
    if z.ndim != 1:
        raise ValueError("z must be 1-D")
    e = np.exp(z - z.max())
    p = e / e.sum()
    return np.diag(p) - np.outer(p, p)
""",
    ),
    dict(
        name="softmax_jacobian accepts a 2-D z",
        cell="softmax_jacobian",
        catches={"test_softmax_jacobian_dtype_and_shape"},
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    e = np.exp(z - z.max())
    p = e / e.sum()
    return np.diag(p) - np.outer(p, p)
""",
    ),
]
