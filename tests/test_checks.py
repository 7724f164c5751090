"""The checks the exercise tests are built from fail for the right reasons."""

import warnings

import numpy as np
import pytest

from course.checks import agrees_with, leaves_input_alone, no_warnings, raises, result_dtype


def test_agrees_with_accepts_a_match_within_tolerance():
    agrees_with(np.array([1.0, 2.0 + 1e-13]), [1.0, 2.0], name="x")
    agrees_with(np.array([1.0, 2.0], dtype=np.float32) * (1 + 5e-7), [1.0, 2.0], name="x",
                dtype=np.float32)


@pytest.mark.parametrize("actual, expected, dtype, message", [
    ([0.5, 0.5], [0.5, 0.5], None, "NumPy array"),
    (np.zeros(3), np.zeros((1, 3)), None, "shape"),
    (np.zeros(2, dtype=np.float32), np.zeros(2), None, "dtype"),
    (np.array([np.nan, 1.0]), [0.5, 1.0], None, "NaN"),
    (np.array([0.5, 1.0]), [np.nan, 1.0], None, "NaN"),
    (np.array([np.inf, 1.0]), [-np.inf, 1.0], None, "infinities"),
    (np.array([1.0, 2.0 + 1e-9]), [1.0, 2.0], None, "1 of 2 values are wrong"),
    (np.array([1.0, 2.001], dtype=np.float32), [1.0, 2.0], np.float32, "wrong"),
])
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
        warnings.warn("debugging output", UserWarning)
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
