"""Chapter 01: wrong answers students really write, and the tests that must catch them.

Each entry replaces one solution cell (``cell`` is its grade_id) of an otherwise
correct submission; ``catches`` names the tests that must then fail.
"""

ASSIGNMENT = "01-definition"

MISTAKES = [
    dict(
        name="softmax normalises over the whole array",
        cell="softmax",
        catches={"test_softmax_axis", "test_two_class_softmax_is_sigmoid"},
        code="""
def softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=np.float64))
    return e / e.sum()
""",
    ),
    dict(
        name="softmax ignores the axis argument",
        cell="softmax",
        catches={"test_softmax_axis"},
        code="""
def softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=np.float64))
    return e / e.sum(axis=-1, keepdims=True)
""",
    ),
    dict(
        name="softmax sums without keepdims",
        cell="softmax",
        catches={"test_softmax_axis"},
        code="""
def softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=np.float64))
    return e / e.sum(axis=axis)
""",
    ),
    dict(
        name="softmax turns float32 into float64",
        cell="softmax",
        catches={"test_softmax_dtype"},
        code="""
def softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="softmax computes everything in float32",
        cell="softmax",
        catches={"test_softmax_dtype", "test_softmax_probabilities"},
        code="""
def softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=np.float32))
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="softmax subtracts the max in place",
        cell="softmax",
        catches={"test_softmax_shift_and_input"},
        code="""
def softmax(z, axis=-1):
    z = np.asarray(z)
    if z.dtype != np.float32:
        z = z.astype(np.float64)
    z -= z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)
""",
    ),
    dict(
        name="softmax returns a list",
        cell="softmax",
        catches={"test_softmax_probabilities"},
        code="""
def softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=np.float64))
    return (e / e.sum(axis=axis, keepdims=True)).tolist()
""",
    ),
    dict(
        name="sigmoid is the naive formula",
        cell="sigmoid",
        catches={"test_sigmoid_extremes"},
        code="""
def sigmoid(x):
    x = np.asarray(x)
    x = x if x.dtype == np.float32 else x.astype(np.float64)
    return 1 / (1 + np.exp(-x))
""",
    ),
    dict(
        name="sigmoid as exp(x) / (1 + exp(x))",
        cell="sigmoid",
        catches={"test_sigmoid_extremes"},
        code="""
def sigmoid(x):
    x = np.asarray(x)
    x = x if x.dtype == np.float32 else x.astype(np.float64)
    return np.exp(x) / (1 + np.exp(x))
""",
    ),
    dict(
        name="sigmoid picks a form with np.where but computes both",
        cell="sigmoid",
        catches={"test_sigmoid_extremes"},
        code="""
def sigmoid(x):
    x = np.asarray(x)
    x = x if x.dtype == np.float32 else x.astype(np.float64)
    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
""",
    ),
    dict(
        name="sigmoid clips to +-500 (overflows in float32)",
        cell="sigmoid",
        catches={"test_sigmoid_extremes"},
        code="""
def sigmoid(x):
    x = np.asarray(x)
    x = x if x.dtype == np.float32 else x.astype(np.float64)
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))
""",
    ),
    dict(
        name="sigmoid always returns float64",
        cell="sigmoid",
        catches={"test_sigmoid_values"},
        code="""
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
""",
    ),
]
