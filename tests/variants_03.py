"""Chapter 03: correct answers in other styles; each must get full marks (test_variants.py)."""

ASSIGNMENT = "03-stability"

VARIANTS = [
    dict(
        name="stable_softmax with scipy.special.softmax",
        cell="stable_softmax",
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    with np.errstate(over="ignore"):  # a difference beyond the float range gives -inf: exp = 0
        return scipy.special.softmax(z, axis=axis)
""",
    ),
    dict(
        name="stable_softmax in log space: exp(z - m - log(sum(exp(z - m))))",
        cell="stable_softmax",
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    z = z if z.dtype == np.float32 else z.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        shifted = z - z.max(axis=axis, keepdims=True)
        return np.exp(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)))
""",
    ),
    dict(
        name="stable_softmax in float64 inside, cast back to float32",
        cell="stable_softmax",
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    x = z.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(dtype)
""",
    ),
    dict(
        name="stable_softmax as a loop over the slices, float32-native",
        cell="stable_softmax",
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    dtype = np.float32 if z.dtype == np.float32 else np.float64
    moved = np.moveaxis(z.astype(dtype), axis, -1)
    out = np.empty(moved.shape, dtype=dtype)
    for index in np.ndindex(moved.shape[:-1]):
        row = moved[index]
        top = row.max()
        with np.errstate(invalid="ignore", over="ignore"):
            e = np.exp(row - top)
        out[index] = e / e.sum()
    return np.moveaxis(out, -1, axis)
""",
    ),
]
