"""Numerical gradient checks: central differences and the relative error.

A derivative worked out by hand is checked against the definition: nudge one
input by ``h`` in each direction and watch the function,

    df/dx_i  ~  (f(x + h e_i) - f(x - h e_i)) / (2 h),

whose error shrinks like ``h**2`` (the one-sided difference only like ``h``).
The two results are then compared with :func:`relative_error`, as in the
classic CS231n assignments: below about 1e-7 the analytic gradient is right,
around 1e-2 or above it is wrong. Example::

    from course.gradcheck import numerical_gradient, relative_error

    f = lambda x: float(np.sum(x ** 3))
    x = np.array([1.0, -2.0])
    relative_error(3 * x ** 2, numerical_gradient(f, x))   # about 1e-11

Everything is computed in float64 (a float32 ``x`` is converted): with
``h = 1e-5`` the rounding error of float32 would swamp the differences. The
function is always called with a fresh copy of the nudged point, so a function
that modifies its argument cannot corrupt the check.
"""

from __future__ import annotations

import numpy as np

__all__ = ["numerical_gradient", "numerical_jacobian", "relative_error"]


def numerical_gradient(f, x, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a scalar function.

    Args:
        f: a function of one array of the shape of ``x`` that returns a number
            (a Python or NumPy scalar, or an array of size 1).
        x: the point, a list or an array of any shape.
        h: the step; 1e-5 balances the truncation error (about h**2) against
            rounding (about 1e-16 / h) for functions of order 1.

    Returns:
        A float64 array of the shape of ``x``: entry i is
        ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``.

    Raises:
        ValueError: if ``h`` is not a positive finite number, or ``f`` does not
            return a single number.
    """
    x = _as_point(x, h)
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        grad[i] = (_scalar(f, _nudged(x, i, h)) - _scalar(f, _nudged(x, i, -h))) / (2 * h)
    return grad


def numerical_jacobian(f, x, h: float = 1e-5) -> np.ndarray:
    """Central-difference Jacobian of an array-valued function.

    Args:
        f: a function of one array of the shape of ``x`` that returns an array
            (the same shape at every point).
        x: the point, a list or an array of any shape.
        h: the step (see :func:`numerical_gradient`).

    Returns:
        A float64 array of shape ``f(x).shape + x.shape``: entry ``[j, i]`` is the
        derivative of output j with respect to input i. For 1-D ``x`` and 1-D
        outputs this is the usual (m, n) Jacobian matrix.

    Raises:
        ValueError: if ``h`` is not a positive finite number, or the shape of
            ``f``'s result changes between calls.
    """
    x = _as_point(x, h)
    out_shape = np.shape(f(x.copy()))
    jac = np.empty(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        up = np.asarray(f(_nudged(x, i, h)), dtype=np.float64)
        down = np.asarray(f(_nudged(x, i, -h)), dtype=np.float64)
        if up.shape != out_shape or down.shape != out_shape:
            raise ValueError(
                f"f returned shape {up.shape} or {down.shape} at a nudged point, "
                f"but {out_shape} at x"
            )
        jac[(...,) + i] = (up - down) / (2 * h)
    return jac


def relative_error(a, b, eps: float = 1e-8) -> float:
    """The largest elementwise relative error between two arrays (CS231n style).

    Each pair is compared as ``|a - b| / max(|a| + |b|, eps)``; ``eps`` keeps pairs
    that are both (nearly) zero from dividing by zero.

    Args:
        a: an array (or list, or number).
        b: another, of the same shape.
        eps: the smallest denominator.

    Returns:
        A Python float: 0 for identical inputs, at most 1; NaN if either input holds
        NaN or an infinity (such a gradient is never right). Rule of thumb for a
        float64 gradient check: below 1e-7 good, above 1e-4 a bug.

    Raises:
        ValueError: if the shapes differ.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare arrays of shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))


def _as_point(x, h) -> np.ndarray:
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"the step h must be a positive finite number, got {h!r}")
    return np.array(x, dtype=np.float64)  # a copy, in float64


def _nudged(x: np.ndarray, i: tuple, step: float) -> np.ndarray:
    y = x.copy()
    y[i] += step
    return y


def _scalar(f, x) -> float:
    value = f(x)
    if np.size(value) != 1:
        raise ValueError(f"f must return a single number, got shape {np.shape(value)}")
    return float(np.asarray(value, dtype=np.float64).reshape(()))
