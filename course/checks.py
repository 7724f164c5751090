"""Checks used by the exercise notebooks' tests.

Each check raises ``AssertionError`` with a message written for a student: what
was expected, what came back, and the most likely mistake. They work the same
whether ``func`` is the student's function (in Jupyter) or the grader's proxy
of it.

"Agrees with" follows the course contract: same shape, the contract's dtype
rule, NaN and +-inf in the same places, and finite values within 1e-5 relative
for a float32 result and 1e-12 relative for a float64 one (values below the
dtype's smallest normal number may differ).
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np

RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def result_dtype(*inputs) -> np.dtype:
    """The contract's dtype rule: float32 in, float32 out; anything else, float64."""
    arrays = [x for x in inputs if isinstance(x, np.ndarray)]
    if arrays and all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def agrees_with(actual, expected, *, name: str, dtype=None, hint: str = "", atol=None) -> None:
    """Assert that ``actual`` agrees with the float64 reference ``expected``.

    Args:
        actual: what the student's function returned.
        expected: the reference values (any float dtype; compared in float64).
        name: how to call the result in messages, e.g. ``"softmax([2, 1, 0.1])"``.
        dtype: the dtype the result must have (default: float64).
        hint: the likely mistake, added to a message about wrong values.
        atol: an absolute tolerance (a number, or an array shaped like ``expected``) for
            results whose rounding error scales with their terms rather than with the
            result itself, such as sums of products; by default only values below the
            dtype's smallest normal number may differ.
    """
    expected = np.asarray(expected, dtype=np.float64)
    dtype = np.dtype(dtype or np.float64)
    if isinstance(actual, np.generic) and expected.ndim == 0:
        actual = np.asarray(actual)
    if not isinstance(actual, np.ndarray):
        raise AssertionError(f"{name} should return a NumPy array, got {type(actual).__name__}")
    if actual.shape != expected.shape:
        raise AssertionError(f"{name} has shape {actual.shape}, expected {expected.shape}"
                             " - did you sum or take the max without keepdims=True?")
    if actual.dtype != dtype:
        raise AssertionError(f"{name} has dtype {actual.dtype}, expected {dtype}"
                             " (float32 in, float32 out; lists, ints and float64 give float64)")
    got = actual.astype(np.float64)
    nan_got, nan_exp = np.isnan(got), np.isnan(expected)
    if not np.array_equal(nan_got, nan_exp):
        where = "contains NaN where" if (nan_got & ~nan_exp).any() else "lacks NaN where"
        raise AssertionError(f"{name} {where} the reference has "
                             f"{'finite values' if (nan_got & ~nan_exp).any() else 'NaN'}"
                             + (f" - {hint}" if hint else ""))
    inf_got, inf_exp = np.isinf(got), np.isinf(expected)
    if not np.array_equal(inf_got, inf_exp) or not np.array_equal(
            got[inf_got], expected[inf_exp]):
        raise AssertionError(f"{name} has infinities where the reference does not (or the "
                             "other way round)" + (f" - {hint}" if hint else ""))
    finite = np.isfinite(expected)
    tiny = np.finfo(dtype).tiny
    if atol is not None:
        tiny = np.maximum(np.broadcast_to(np.asarray(atol, dtype=np.float64), expected.shape)[finite],
                          tiny)
    ok = np.abs(got[finite] - expected[finite]) <= RTOL[dtype] * np.abs(expected[finite]) + tiny
    if not ok.all():
        bad = int(np.argmin(ok))
        raise AssertionError(
            f"{name}: {int((~ok).sum())} of {ok.size} values are wrong; e.g. got "
            f"{got[finite][bad]!r}, expected {expected[finite][bad]!r}"
            + (f" - {hint}" if hint else ""))


def raises(exc_type, func, *args, **kwargs) -> None:
    """Assert that ``func(*args, **kwargs)`` raises ``exc_type`` with a message."""
    call = _describe_call(func, args, kwargs)
    try:
        func(*args, **kwargs)
    except exc_type as exc:
        if not str(exc).strip():
            raise AssertionError(f"{call} raised {exc_type.__name__} without a message: "
                                 "say what was wrong") from None
        return
    except Exception as exc:
        raise AssertionError(f"{call} raised {type(exc).__name__}: {exc}; expected "
                             f"{exc_type.__name__}") from None
    raise AssertionError(f"{call} should raise {exc_type.__name__}, but it returned normally")


def no_warnings(func, *args, **kwargs):
    """Call ``func`` and assert that it emits no numerical warning.

    NumPy reports overflow, underflow to NaN, division by zero and invalid
    operations as ``RuntimeWarning``; those mean the code is not numerically
    safe. Other warnings (a student's own debugging ``warnings.warn``) are noise
    and do not count.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    numerical = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if numerical:
        first = numerical[0]
        raise AssertionError(f"{_describe_call(func, args, kwargs)} emitted a "
                             f"{first.category.__name__}: {first.message}")
    return result


def leaves_input_alone(func, z, *args, **kwargs):
    """Call ``func(z, ...)`` and assert that ``z`` is unchanged afterwards."""
    before = np.array(z, copy=True)
    result = func(z, *args, **kwargs)
    if not np.array_equal(np.asarray(z), before, equal_nan=True):
        raise AssertionError(f"{getattr(func, '__name__', 'the function')} modified its input "
                             "in place (e.g. `z -= z.max()`): work on a copy instead")
    return result


def peak_memory(func, *args, **kwargs):
    """Call ``func(*args, **kwargs)`` and measure the memory the call allocated.

    Returns ``(result, peak)``: what the call returned and the peak, in bytes, of the
    memory it allocated while it ran (Python objects and NumPy arrays, which NumPy reports
    to :mod:`tracemalloc`), not counting what existed before. Arguments that are
    generators are consumed during the call, so the blocks they yield count too, for as
    long as the function keeps them. In Jupyter the call is traced here; under the grader
    (``grade`` and ``check``) ``func`` stands for the student's function and is traced in
    the student's own process, with the same meaning.
    """
    measure = getattr(func, "measure_peak", None)
    if callable(measure) and not isinstance(func, type(peak_memory)):
        result, peak = measure(*args, **kwargs)
        if peak is None:
            raise AssertionError(f"the peak memory of {_describe_call(func, args, kwargs)} "
                                 "could not be measured")
        return result, int(peak)
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        result = func(*args, **kwargs)
    finally:
        peak = max(tracemalloc.get_traced_memory()[1] - base, 0)
        if started:
            tracemalloc.stop()
    return result, int(peak)


def megabytes(n_bytes: float) -> str:
    """A byte count for a message, e.g. ``'12.3 MB'``."""
    return f"{n_bytes / 1e6:.1f} MB"


def _describe_call(func, args, kwargs) -> str:
    name = getattr(func, "__name__", "the function")
    shown = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return f"np.array({value.tolist()!r}, dtype={value.dtype})"
        return f"<{value.dtype} array of shape {value.shape}>"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
