"""Chapter 03: wrong answers students really write, and the tests that must catch them.

Each entry replaces one solution cell (``cell`` is its grade_id) of an otherwise
correct submission; ``catches`` names the tests that must then fail.
"""

ASSIGNMENT = "03-stability"

MISTAKES = [
    dict(
        name="stable_softmax without the max subtraction (naive)",
        cell="stable_softmax",
        catches={
            "test_stable_softmax_axis",
            "test_stable_softmax_dtype",
            "test_stable_softmax_float32",
            "test_stable_softmax_huge_scores",
            "test_stable_softmax_input_and_warnings",
            "test_stable_softmax_neg_inf",
            "test_stable_softmax_undefined_rows",
        },
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="stable_softmax subtracts the global max (not each row's)",
        cell="stable_softmax",
        catches={
            "test_stable_softmax_axis",
            "test_stable_softmax_float32",
            "test_stable_softmax_huge_scores",
            "test_stable_softmax_neg_inf",
            "test_stable_softmax_undefined_rows",
        },
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="stable_softmax subtracts the mean",
        cell="stable_softmax",
        catches={
            "test_stable_softmax_axis",
            "test_stable_softmax_float32",
            "test_stable_softmax_huge_scores",
            "test_stable_softmax_input_and_warnings",
            "test_stable_softmax_neg_inf",
            "test_stable_softmax_undefined_rows",
        },
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    e = np.exp(z - z.mean(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="stable_softmax subtracts the min",
        cell="stable_softmax",
        catches={
            "test_stable_softmax_axis",
            "test_stable_softmax_float32",
            "test_stable_softmax_huge_scores",
            "test_stable_softmax_input_and_warnings",
            "test_stable_softmax_neg_inf",
            "test_stable_softmax_undefined_rows",
        },
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    e = np.exp(z - z.min(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="stable_softmax takes the max without keepdims",
        cell="stable_softmax",
        catches={
            "test_stable_softmax_axis",
            "test_stable_softmax_dtype",
            "test_stable_softmax_float32",
            "test_stable_softmax_huge_scores",
            "test_stable_softmax_neg_inf",
            "test_stable_softmax_undefined_rows",
        },
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=axis))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="stable_softmax subtracts the max in place",
        cell="stable_softmax",
        catches={"test_stable_softmax_input_and_warnings"},
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    with np.errstate(invalid="ignore"):
        z -= z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    # One slip, one test: the value tests check values, test_stable_softmax_dtype the dtype.
    dict(
        name="stable_softmax turns float32 into float64",
        cell="stable_softmax",
        catches={"test_stable_softmax_dtype"},
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="stable_softmax returns zeros for all -inf rows",
        cell="stable_softmax",
        catches={"test_stable_softmax_undefined_rows"},
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    m = z.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # "avoid -inf - -inf"
    e = np.exp(z - m)
    s = e.sum(axis=axis, keepdims=True)
    return e / np.where(s == 0, 1, s)
""",
    ),
    dict(
        name="stable_softmax cleans the input with np.nan_to_num",
        cell="stable_softmax",
        catches={"test_stable_softmax_undefined_rows"},
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    z = np.nan_to_num(z)  # -inf -> most negative float, so no NaN can appear
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="stable_softmax hides NaN with nan_to_num on its result",
        cell="stable_softmax",
        catches={"test_stable_softmax_undefined_rows"},
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    with np.errstate(invalid="ignore"):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
    return np.nan_to_num(e / e.sum(axis=axis, keepdims=True))
""",
    ),
    dict(
        name="stable_softmax clips the scores to [-500, 500]",
        cell="stable_softmax",
        catches={
            "test_stable_softmax_axis",
            "test_stable_softmax_dtype",
            "test_stable_softmax_float32",
            "test_stable_softmax_huge_scores",
            "test_stable_softmax_input_and_warnings",
            "test_stable_softmax_neg_inf",
            "test_stable_softmax_undefined_rows",
        },
        code="""
def stable_softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    e = np.exp(np.clip(z, -500, 500))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
]
