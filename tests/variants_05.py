"""Chapter 05: correct answers in other styles; each must get full marks (test_variants.py)."""

ASSIGNMENT = "05-cross-entropy"

_CHECKS = '''
class TargetError(ValueError):
    """Arguments that do not describe N rows of K logits and N class indices."""


def _check(z, y):
    if z.ndim != 2:
        raise TargetError(f"logits must be (N, K), got {z.shape}")
    if y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise TargetError(f"need {z.shape[0]} targets, got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise TargetError(f"targets must be integers, got {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise TargetError(f"targets must be in [0, {z.shape[1]})")
'''

VARIANTS = [
    dict(
        name="cross_entropy with scipy.special.logsumexp and its own ValueError subclass",
        cell="cross_entropy",
        code=_CHECKS
        + """

def cross_entropy(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets)
    _check(z, y)
    return float(np.mean(scipy.special.logsumexp(z, axis=1) - z[np.arange(len(y)), y]))
""",
    ),
    dict(
        name="cross_entropy as a loop over the rows",
        cell="cross_entropy",
        code="""
import math

def cross_entropy(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets)
    if z.ndim != 2 or y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"bad shapes or target dtype: logits {z.shape}, targets {y.shape} {y.dtype}")
    if np.any(y < 0) or np.any(y >= z.shape[1]):
        raise ValueError("a target is out of range")
    losses = []
    for row, target in zip(z, y):
        m = max(row)
        losses.append(m + math.log(math.fsum(math.exp(v - m) for v in row)) - row[target])
    return math.fsum(losses) / len(losses)
""",
    ),
    dict(
        name="cross_entropy via log_softmax picked with take_along_axis",
        cell="cross_entropy",
        code=_CHECKS
        + """

def cross_entropy(logits, targets):
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets)
    _check(z, y)
    m = z.max(axis=1, keepdims=True)
    log_p = (z - m) - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -float(np.take_along_axis(log_p, y[:, None], axis=1).mean())
""",
    ),
    dict(
        name="cross_entropy in float32-native arithmetic for float32 logits",
        cell="cross_entropy",
        code="""
def cross_entropy(logits, targets):
    z = np.asarray(logits)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    y = np.asarray(targets)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D")
    if y.shape != (len(z),) or y.dtype.kind not in "iu" or (y.size and not (0 <= y.min() and y.max() < z.shape[1])):
        raise ValueError("targets must be len(logits) integers in [0, K)")
    m = z.max(axis=1)
    rows = np.arange(len(z))
    losses = np.log(np.exp(z - m[:, None]).sum(axis=1)) + (m - z[rows, y])
    return float(losses.mean(dtype=np.float64))
""",
    ),
    dict(
        name="cross_entropy_grad with scipy.special.softmax and np.eye",
        cell="cross_entropy_grad",
        code=_CHECKS
        + """

def cross_entropy_grad(logits, targets):
    z = np.asarray(logits)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    y = np.asarray(targets)
    _check(z, y)
    n, k = z.shape
    return ((scipy.special.softmax(z, axis=1) - np.eye(k, dtype=z.dtype)[y]) / n).astype(z.dtype)
""",
    ),
    dict(
        name="cross_entropy_grad as a loop over the rows",
        cell="cross_entropy_grad",
        code="""
def cross_entropy_grad(logits, targets):
    z = np.asarray(logits)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    z = z.astype(np.float64)
    y = np.asarray(targets)
    if z.ndim != 2 or y.shape != (z.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError("logits must be (N, K) and targets N integers")
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise ValueError("targets out of range")
    grad = np.zeros_like(z)
    for i in range(len(z)):
        e = np.exp(z[i] - z[i].max())
        grad[i] = e / e.sum()
        grad[i, y[i]] -= 1.0
    return (grad / len(z)).astype(dtype)
""",
    ),
    dict(
        name="cross_entropy_grad as exp(log_softmax) minus the one-hot",
        cell="cross_entropy_grad",
        code="""
def cross_entropy_grad(logits, targets):
    z = np.asarray(logits)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    y = np.asarray(targets)
    if z.ndim != 2:
        raise ValueError("logits must be 2-D (N, K)")
    n, k = z.shape
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or np.any((y < 0) | (y >= k)):
        raise ValueError("targets must be N integers in [0, K)")
    m = z.max(axis=1, keepdims=True)
    p = np.exp((z - m) - np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
    one_hot = np.zeros_like(p)
    one_hot[np.arange(n), y] = 1
    return (p - one_hot) / np.asarray(n, dtype=z.dtype)
""",
    ),
    dict(
        name="softmax_jacobian as a double loop, with its own ValueError subclass",
        cell="softmax_jacobian",
        code="""
class NotAVectorError(ValueError):
    pass


def softmax_jacobian(z):
    z = np.asarray(z)
    if z.ndim != 1:
        raise NotAVectorError(f"z must be 1-D, got shape {z.shape}")
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    p = scipy.special.softmax(z.astype(np.float64))
    k = len(p)
    J = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            J[i, j] = p[i] * ((1.0 if i == j else 0.0) - p[j])
    return J.astype(dtype)
""",
    ),
    dict(
        name="softmax_jacobian as p[:, None] * (I - p[None, :])",
        cell="softmax_jacobian",
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    if z.ndim != 1:
        raise ValueError("softmax_jacobian takes one vector of logits")
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    e = np.exp(z - z.max())
    p = e / e.sum()
    return p[:, None] * (np.eye(len(p), dtype=p.dtype) - p[None, :])
""",
    ),
    dict(
        name="softmax_jacobian in float64 inside with einsum",
        cell="softmax_jacobian",
        code="""
def softmax_jacobian(z):
    z = np.asarray(z)
    if np.ndim(z) != 1:
        raise ValueError(f"expected a 1-D array, got {np.ndim(z)} dimensions")
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    x = z.astype(np.float64)
    p = np.exp(x - scipy.special.logsumexp(x))
    return (np.diag(p) - np.einsum("i,j->ij", p, p)).astype(dtype)
""",
    ),
]
