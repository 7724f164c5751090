"""The gradient checker finds right gradients right and wrong ones wrong."""

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from course.gradcheck import numerical_gradient, numerical_jacobian, relative_error


def test_numerical_gradient_of_a_polynomial():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda v: np.sum(v**3), x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-9)


def test_numerical_gradient_of_logsumexp_is_softmax():
    x = np.random.default_rng(0).normal(size=7)
    assert relative_error(numerical_gradient(logsumexp, x), softmax(x)) < 1e-8


def test_central_differences_beat_one_sided_ones():
    """The error of the central difference shrinks like h**2."""
    x = np.array([0.3])
    errors = [
        abs(numerical_gradient(lambda v: np.sin(v[0]), x, h=h)[0] - np.cos(0.3))
        for h in (1e-2, 1e-3)
    ]
    assert errors[0] / errors[1] == pytest.approx(100, rel=0.01)


def test_inputs_are_left_alone_and_f_gets_copies():
    x = np.array([1.0, 2.0], dtype=np.float32)
    seen = []

    def f(v):
        seen.append(v.dtype)
        v *= 0  # a careless f that edits its argument
        return 0.0

    numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    assert set(seen) == {np.dtype(np.float64)}
    assert numerical_gradient(lambda v: v @ v, [1, 2]).dtype == np.float64  # lists and ints


def test_accepts_numpy_and_size_one_results():
    x = np.array([2.0])
    for f in (
        lambda v: np.float64(v[0] ** 2),
        lambda v: np.array([v[0] ** 2]),
        lambda v: np.array(v[0] ** 2),
    ):
        assert numerical_gradient(f, x)[0] == pytest.approx(4.0, rel=1e-6)


@pytest.mark.parametrize(
    "f, h, message",
    [
        (lambda v: v, 1e-5, "single number"),
        (lambda v: 0.0, 0.0, "positive"),
        (lambda v: 0.0, np.nan, "positive"),
    ],
)
def test_numerical_gradient_refuses_bad_arguments(f, h, message):
    with pytest.raises(ValueError, match=message):
        numerical_gradient(f, np.ones(3), h=h)


def test_numerical_jacobian_of_softmax():
    z = np.array([0.5, -1.0, 2.0])
    p = softmax(z)
    jac = numerical_jacobian(softmax, z)
    assert jac.shape == (3, 3)
    assert relative_error(jac, np.diag(p) - np.outer(p, p)) < 1e-8


def test_numerical_jacobian_shapes_and_changing_outputs():
    x = np.ones((2, 3))
    assert numerical_jacobian(lambda v: v.sum(axis=0), x).shape == (3, 2, 3)
    assert numerical_jacobian(lambda v: v.sum(), x).shape == (2, 3)
    with pytest.raises(ValueError, match="shape"):
        numerical_jacobian(lambda v: v[v > 1.0], np.array([1.0, 0.0]))


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert type(relative_error(1.0, 2.0)) is float
    assert relative_error([1.0, 0.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert relative_error([1.0], [1.0 + 2e-8]) == pytest.approx(1e-8, rel=1e-6)
    assert relative_error(np.zeros(3), np.full(3, 1e-12)) < 1e-3  # eps: zeros are fine
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0
    assert np.isnan(relative_error([np.nan], [1.0]))
    assert np.isnan(relative_error([np.inf], [np.inf]))
    with pytest.raises(ValueError, match="shapes"):
        relative_error(np.zeros(3), np.zeros((3, 1)))


def test_a_wrong_gradient_is_found():
    """A gradient off by a factor (the forgotten 1/N) fails a 1e-7 check clearly."""
    z = np.random.default_rng(1).normal(size=(4, 3))

    def loss(v):
        return np.mean(logsumexp(v, axis=1) - v[:, 0])

    right = (softmax(z, axis=1) - np.eye(3)[[0, 0, 0, 0]]) / 4
    numeric = numerical_gradient(loss, z)
    assert relative_error(right, numeric) < 1e-7
    assert relative_error(right * 4, numeric) > 0.5
