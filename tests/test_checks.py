"""The checks the exercise tests are built from fail for the right reasons."""

import warnings

import numpy as np
import pytest
import scipy.special

from course.checks import (
    agrees_with,
    leaves_input_alone,
    no_warnings,
    raises,
    reference_cross_entropy,
    reference_log_softmax,
    reference_logsumexp,
    result_dtype,
    returns_a_copy,
    slice_scale,
)


def test_agrees_with_accepts_a_match_within_tolerance():
    agrees_with(np.array([1.0, 2.0 + 1e-13]), [1.0, 2.0], name="x")
    agrees_with(
        np.array([1.0, 2.0], dtype=np.float32) * (1 + 5e-7), [1.0, 2.0], name="x", dtype=np.float32
    )


@pytest.mark.parametrize(
    "actual, expected, dtype, message",
    [
        ([0.5, 0.5], [0.5, 0.5], None, "NumPy array"),
        (np.zeros(3), np.zeros((1, 3)), None, "shape"),
        (np.zeros(2, dtype=np.float32), np.zeros(2), None, "dtype"),
        (np.array([np.nan, 1.0]), [0.5, 1.0], None, "NaN"),
        (np.array([0.5, 1.0]), [np.nan, 1.0], None, "NaN"),
        (
            np.array([np.inf, 1.0]),
            [-np.inf, 1.0],
            None,
            "inf at index 0 where the accurate value is -inf",
        ),
        (
            np.array([1.0, 2.0 + 1e-9]),
            [1.0, 2.0],
            None,
            "1 of 2 values are wrong; the first at index 1: got",
        ),
        (
            np.array([[1.0, 2.0], [3.0, np.nan]]),
            [[1.0, 2.0], [3.0, 4.0]],
            None,
            r"NaN at index \(1, 1\) where the accurate value is 4.0",
        ),
        (
            np.array([[1.0, 2.0], [3.0, 4.0]]),
            [[1.0, np.nan], [3.0, 4.0]],
            None,
            r"2.0 at index \(0, 1\) where the accurate value is NaN",
        ),
        (
            np.array([0.5, -np.inf]),
            [0.5, -3.0],
            None,
            "-inf at index 1 where the accurate value is -3.0",
        ),
        (np.zeros((4, 2, 3)), np.zeros((2, 3)), None, "broadcast the result up"),
        (np.array([1.0, 2.001], dtype=np.float32), [1.0, 2.0], np.float32, "wrong"),
    ],
)
def test_agrees_with_names_the_problem(actual, expected, dtype, message):
    with pytest.raises(AssertionError, match=message):
        agrees_with(actual, expected, name="result", dtype=dtype)


def test_raises_wants_the_type_and_a_message():
    def quiet(x):
        raise ValueError()

    def loud(x):
        raise ValueError("temperature must be > 0")

    raises(ValueError, loud, 0)
    with pytest.raises(AssertionError, match="without a message"):
        raises(ValueError, quiet, 0)
    with pytest.raises(AssertionError, match="returned normally"):
        raises(ValueError, abs, 0)
    with pytest.raises(AssertionError, match="raised TypeError"):
        raises(ValueError, len, 0)


def test_no_warnings_catches_overflow():
    with pytest.raises(AssertionError, match="RuntimeWarning"):
        no_warnings(np.exp, np.array([1000.0]))
    assert no_warnings(np.exp, np.array([1.0]))[0] == np.e


def test_no_warnings_ignores_noise_that_is_not_numerical():
    def chatty(x):
        warnings.warn("debugging output", UserWarning, stacklevel=2)
        return x

    assert no_warnings(chatty, 3) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        no_warnings(abs, -1)  # leaves the caller's filters alone


def test_leaves_input_alone_detects_in_place_edits():
    def sneaky(z):
        z -= 1
        return z

    with pytest.raises(AssertionError, match="in place"):
        leaves_input_alone(sneaky, np.array([1.0, 2.0]))
    leaves_input_alone(lambda z: z - 1, np.array([1.0, np.nan]))


def test_result_dtype_rule():
    assert result_dtype(np.zeros(2, dtype=np.float32)) == np.float32
    for value in ([1.0], np.zeros(2), np.arange(3), np.zeros(2, dtype=np.float16)):
        assert result_dtype(value) == np.float64


def test_agrees_with_applies_the_contract_tolerance():
    """|got - want| <= rtol |want| + atol; atol = eps x the largest |z| of the slice for
    log-scale results, carried by the reference_* values or given as scores=."""
    z = np.array([[0.0, -50.0], [1e4, 0.0]])
    exact = reference_log_softmax(z, axis=-1)
    assert exact[0, 0] == -np.exp(-50.0)  # float64 scipy rounds it to exactly 0
    agrees_with(scipy.special.log_softmax(z, axis=-1), exact, name="scipy's answer")
    agrees_with(exact, exact, name="the accurate answer")
    off = exact + np.array([[0.0, 0.0], [-1.5e-12, 0.0]])  # within eps * 1e4 = 2.2e-12 of 0
    agrees_with(off, exact, name="rounded near 1e4")
    with pytest.raises(AssertionError, match=r"index \(1, 0\)"):
        agrees_with(exact + np.array([[0.0, 0.0], [-4e-12, 0.0]]), exact, name="too far")
    with pytest.raises(AssertionError, match=r"index \(0, 0\)"):  # row 0 has scale 50 only
        agrees_with(exact + np.array([[1e-13, 0.0], [0.0, 0.0]]), exact, name="too far")
    plain = np.asarray(exact)
    agrees_with(off, plain, name="with scores=", scores=z, axis=-1)
    with pytest.raises(AssertionError):
        agrees_with(off, plain, name="without scores")
    assert slice_scale(z, axis=-1, shape=(2,)).tolist() == [50.0, 1e4]
    assert slice_scale([[-np.inf, 3.0]], axis=None).tolist() == 3.0


def test_references_are_accurate_and_agree_with_scipy_on_infinities():
    z = np.array(
        [
            [0.0, -np.inf, 1.0],
            [-np.inf, -np.inf, -np.inf],
            [np.inf, 1.0, -np.inf],
            [np.nan, 1.0, 2.0],
            [1e308, 0.0, -1e4],
        ]
    )
    with np.errstate(all="ignore"):
        for axis in (0, -1):
            np.testing.assert_array_equal(
                np.isnan(reference_log_softmax(z, axis=axis)),
                np.isnan(scipy.special.log_softmax(z, axis=axis)),
            )
            np.testing.assert_allclose(
                reference_logsumexp(z, axis=axis), scipy.special.logsumexp(z, axis=axis), rtol=1e-15
            )
        assert reference_logsumexp(z, axis=None, keepdims=True).shape == (1, 1)
    tiny = np.array([0.0, -48.3])
    assert reference_logsumexp(tiny) == np.log1p(np.exp(-48.3))  # about 1e-21, not 0
    rng = np.random.default_rng(0)
    logits, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    expected = -np.mean(scipy.special.log_softmax(logits, axis=1)[np.arange(5), y])
    assert abs(float(reference_cross_entropy(logits, y)) - expected) < 1e-14


def test_raises_accepts_subclasses():
    class TemperatureError(ValueError):
        pass

    def strict(t):
        raise TemperatureError("temperature must be > 0")

    raises(ValueError, strict, 0)
    raises(ValueError, lambda: np.zeros(2).sum(axis=3))  # numpy's AxisError
    with pytest.raises(AssertionError, match="raised TemperatureError"):
        raises(TypeError, strict, 0)


def test_returns_a_copy_and_every_argument_left_alone():
    z = np.array([1.0, 2.0])
    returns_a_copy(lambda x: x * 2, z)
    with pytest.raises(AssertionError, match="returned its input"):
        returns_a_copy(lambda x: x, z)
    with pytest.raises(AssertionError, match="returned its input"):
        returns_a_copy(lambda x: x[:1], z)

    def edits_mask(s, mask):
        mask[0] = False
        return s

    with pytest.raises(AssertionError, match="second argument"):
        leaves_input_alone(edits_mask, z, np.array([True, True]))
