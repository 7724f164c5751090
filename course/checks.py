"""Checks used by the exercise notebooks' tests.

Each check raises ``AssertionError`` with a message written for a student: what
was expected, what came back, where the first difference is, and the most
likely mistake. They work the same whether ``func`` is the student's function
(in Jupyter) or the grader's proxy of it.

"Agrees with" follows the course contract (CONTRACT.md, section 1): same
shape, the contract's dtype rule, NaN and +-inf in the same places, and finite
values with |got - want| <= rtol * |want| + atol, where want is an *accurate*
value (the ``reference_*`` functions below compute log-scale results in
extended precision), rtol is 1e-5 for a float32 result and 1e-12 for a float64
one, and atol is eps(dtype) times the largest |z| of the slice for log-scale
results (pass the scores as ``scores=``). Values below the dtype's smallest
normal number may differ.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import scipy.special

RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def result_dtype(*inputs) -> np.dtype:
    """The contract's dtype rule: float32 in, float32 out; anything else, float64.

    Args:
        inputs: The function's inputs (only arrays count).

    Returns:
        The dtype the result must have.
    """
    arrays = [x for x in inputs if isinstance(x, np.ndarray)]
    if arrays and all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


# -- the tolerance rule, in one place -------------------------------------------------


def slice_scale(scores, axis=-1, shape=None) -> np.ndarray:
    """The largest finite |z| of each slice along ``axis`` (all of ``scores`` for None).

    Args:
        scores: the scores a log-scale result was computed from.
        axis: the axis the result reduces or normalises over; None for every entry.
        shape: the result's shape, to broadcast the scales to (reduced or kept axis).

    Returns:
        A float64 array broadcast to ``shape`` (or with the axis kept, when None).
    """
    z = np.abs(np.asarray(scores, dtype=np.float64))
    z = np.where(np.isfinite(z), z, 0.0)
    if z.size == 0:
        scale = np.zeros(())
    elif axis is None or z.ndim == 0:
        scale = np.asarray(z.max())
    else:
        scale = z.max(axis=axis, keepdims=True)
    if shape is None:
        return scale
    try:
        return np.broadcast_to(scale, shape)
    except ValueError:  # the result dropped the reduced axis
        return np.broadcast_to(np.squeeze(scale, axis=axis), shape)


def tolerance(expected, dtype, scores=None, axis=-1) -> tuple[float, np.ndarray]:
    """(rtol, atol) of the contract for a result of ``dtype``.

    Args:
        expected: The reference result (its shape is atol's).
        dtype: The result's dtype (float32 or float64).
        scores: The inputs whose scale sets atol (atol is 0 when None).
        axis: The axis the function reduces over.

    Returns:
        (rtol, atol per element).
    """
    dtype = np.dtype(dtype)
    expected = np.asarray(expected)
    if scores is None:
        atol = np.zeros(expected.shape)
    else:
        atol = np.finfo(dtype).eps * slice_scale(scores, axis, expected.shape)
    return RTOL[dtype], atol


def _where(mask: np.ndarray) -> str:
    """' at index (i, j)' of the first True entry of ``mask`` (nothing for a 0-d mask)."""
    if mask.ndim == 0:
        return ""
    first = tuple(int(i) for i in np.argwhere(mask)[0])
    return f" at index {first if len(first) > 1 else first[0]}"


def _num(x) -> str:
    return repr(float(x))


def agrees_with(
    actual,
    expected,
    *,
    name: str,
    dtype=None,
    hint: str = "",
    scores=None,
    axis=-1,
    check_dtype: bool = True,
    atol=None,
) -> None:
    """Assert that ``actual`` agrees with the accurate value ``expected``.

    Args:
        actual: what the student's function returned.
        expected: the accurate values (any float dtype; compared in float64).
        name: how to call the result in messages, e.g. ``"softmax([2, 1, 0.1])"``.
        dtype: the dtype the result must have (default: float64); it also sets rtol.
        hint: the likely mistake, added to a message about wrong values.
        scores: for a log-scale result (log-sum-exp, log-softmax, a loss), the scores
            it was computed from: atol = eps(dtype) * the largest |z| of each slice.
        axis: the axis those slices run along (None: all of ``scores``).
        check_dtype: False in a test of values only: a result of another float dtype
            is then compared at the tolerance of ``dtype`` (the dtype test checks it).
        atol: an absolute tolerance (a number, or an array shaped like ``expected``) for
            results whose rounding error scales with their terms rather than with the
            result itself, such as sums of products; by default only values below the
            dtype's smallest normal number may differ.
    """
    carried = getattr(expected, "scale", None) if scores is None else None
    expected = np.asarray(expected, dtype=np.float64)
    dtype = np.dtype(dtype or np.float64)
    if isinstance(actual, np.generic) and expected.ndim == 0:
        actual = np.asarray(actual)
    if not isinstance(actual, np.ndarray):
        raise AssertionError(
            f"{name} should return a NumPy array, got {type(actual).__name__}"
            + (f" {actual!r}" if isinstance(actual, (int, float)) else "")
        )
    if actual.shape != expected.shape:
        text = f"{name} has shape {actual.shape}, expected shape {expected.shape}"
        if actual.ndim + 1 == expected.ndim:
            text += " - did you sum or take the max without keepdims=True?"
        elif actual.ndim > expected.ndim:
            text += " - did something broadcast the result up to a larger shape?"
        raise AssertionError(text)
    if check_dtype and actual.dtype != dtype:
        raise AssertionError(
            f"{name} has dtype {actual.dtype}, expected {dtype}"
            " (float32 in, float32 out; lists, ints and float64 give float64)"
        )
    if actual.dtype.kind not in "biuf":
        raise AssertionError(f"{name} has dtype {actual.dtype}, expected {dtype}")
    got = actual.astype(np.float64)
    more = f" - {hint}" if hint else ""
    nan_got, nan_exp = np.isnan(got), np.isnan(expected)
    if (nan_got & ~nan_exp).any():
        bad = nan_got & ~nan_exp
        raise AssertionError(
            f"{name} has NaN{_where(bad)} where the accurate value is "
            f"{_num(expected[bad][0])} ({int(bad.sum())} of {bad.size} such "
            f"entries){more}"
        )
    if (nan_exp & ~nan_got).any():
        bad = nan_exp & ~nan_got
        raise AssertionError(
            f"{name} has {_num(got[bad][0])}{_where(bad)} where the accurate "
            f"value is NaN ({int(bad.sum())} of {bad.size} such entries){more}"
        )
    inf_got, inf_exp = np.isinf(got), np.isinf(expected)
    bad_inf = (inf_got | inf_exp) & ~nan_exp & (got != expected)
    if bad_inf.any():
        raise AssertionError(
            f"{name} has {_num(got[bad_inf][0])}{_where(bad_inf)} where the "
            f"accurate value is {_num(expected[bad_inf][0])} "
            f"({int(bad_inf.sum())} of {bad_inf.size} such entries){more}"
        )
    explicit_atol = atol
    rtol, atol = tolerance(expected, dtype, scores, axis)
    if carried is not None:  # a reference_* value that was indexed keeps its largest scale
        carried = np.asarray(carried, dtype=np.float64)
        try:
            carried = np.broadcast_to(carried, expected.shape)
        except ValueError:
            carried = np.full(expected.shape, carried.max() if carried.size else 0.0)
        atol = np.finfo(dtype).eps * carried
    if explicit_atol is not None:  # a sum of products: its error scales with its terms
        atol = np.maximum(
            atol, np.broadcast_to(np.asarray(explicit_atol, dtype=np.float64), expected.shape)
        )
    tiny = np.finfo(dtype).tiny
    finite = np.isfinite(expected)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(got - expected)
        allowed = rtol * np.abs(expected) + atol
        wrong = finite & (error > allowed) & ~((np.abs(expected) < tiny) & (np.abs(got) < tiny))
    if wrong.any():
        first = tuple(np.argwhere(wrong)[0]) if wrong.ndim else ()
        raise AssertionError(
            f"{name}: {int(wrong.sum())} of {wrong.size} values are wrong; the first"
            f"{_where(wrong)}: got {_num(got[first])}, expected {_num(expected[first])} "
            f"(off by {float(error[first]):.3g}, allowed {float(allowed[first]):.3g}){more}"
        )


# -- accurate references of the log-scale results -------------------------------------


class LogScale(np.ndarray):
    """Accurate log-scale values that know the largest |z| of the slice each came from.

    That ``scale`` lets :func:`agrees_with` apply the contract's atol by itself.
    """

    def __array_finalize__(self, obj):
        self.scale = getattr(obj, "scale", None)


def _with_scale(values, scale) -> LogScale:
    out = np.array(values, dtype=np.float64).view(LogScale)
    out.scale = np.asarray(scale, dtype=np.float64)
    return out


def _extended_log_softmax(z, axis):
    """log_softmax in extended precision (np.longdouble), for slices with a finite max.

    Returns (values as longdouble, mask of the slices whose max is finite).
    """
    x = np.asarray(z, dtype=np.longdouble)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        m = np.max(x, axis=axis, keepdims=True)
        finite = np.isfinite(m)
        shifted = x - np.where(finite, m, 0)
        e = np.exp(shifted)
        # leave the max's own term (exactly 1) out and add it back with log1p
        top = np.argmax(np.where(np.isnan(shifted), -np.inf, shifted), axis=axis)
        np.put_along_axis(e, np.expand_dims(top, axis), 0, axis=axis)
        values = shifted - np.log1p(e.sum(axis=axis, keepdims=True))
    return values, finite


def reference_log_softmax(z, axis=None) -> np.ndarray:
    """Accurate log_softmax (float64), as a :class:`LogScale`.

    Extended precision where the slice max is finite, scipy.special.log_softmax's
    infinities and NaN elsewhere.

    Args:
        z: The scores.
        axis: The axis (None: all of ``z``, scipy's default).

    Returns:
        The log-probabilities.
    """
    z64 = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        out = np.array(scipy.special.log_softmax(z64, axis=axis), dtype=np.float64)
    if z64.size:
        flat = z64.reshape(-1) if axis is None else z64
        values, finite = _extended_log_softmax(flat, 0 if axis is None else axis)
        values = values.reshape(z64.shape)
        finite = np.broadcast_to(finite, flat.shape).reshape(z64.shape)
        out[finite] = values[finite].astype(np.float64)
    return _with_scale(out, slice_scale(z64, axis, z64.shape))


def reference_logsumexp(z, axis=None, keepdims=False):
    """Accurate logsumexp (float64), as a :class:`LogScale`.

    With scipy.special.logsumexp's infinities and NaN.

    Args:
        z: The scores.
        axis: The axis (None: all of ``z``, scipy's default).
        keepdims: Whether the reduced axis stays, with length 1.

    Returns:
        The logsumexp.
    """
    z64 = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        out = np.asarray(scipy.special.logsumexp(z64, axis=axis, keepdims=True), dtype=np.float64)
    if z64.size:
        flat = z64.reshape(-1) if axis is None else z64
        ax = 0 if axis is None else axis
        x = np.asarray(flat, dtype=np.longdouble)
        with np.errstate(all="ignore"):
            m = np.max(x, axis=ax, keepdims=True)
            finite = np.isfinite(m)
            e = np.exp(x - np.where(finite, m, 0))
            top = np.argmax(np.where(np.isnan(x), -np.inf, x), axis=ax)
            np.put_along_axis(e, np.expand_dims(top, ax), 0, axis=ax)
            lse = m + np.log1p(e.sum(axis=ax, keepdims=True))
        lse = lse.reshape(out.shape)
        finite = finite.reshape(out.shape)
        out = out.copy()
        out[finite] = lse[finite].astype(np.float64)
    scale = slice_scale(z64, axis, out.shape) if z64.size else np.zeros(out.shape)
    if not keepdims:
        out = out.reshape(()) if axis is None else np.squeeze(out, axis=axis)
        scale = scale.reshape(out.shape)
    return _with_scale(out, scale)


def reference_cross_entropy(logits, targets) -> LogScale:
    """Accurate mean cross-entropy of integer targets, in extended precision.

    Args:
        logits: The scores, one row per example.
        targets: The class index of each row.

    Returns:
        The mean loss (a 0-d value).
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets)
    values, _ = _extended_log_softmax(z, axis=1)
    loss = -np.mean(values[np.arange(len(y)), y])
    return _with_scale(np.float64(loss), slice_scale(z, None))


# -- other checks ------------------------------------------------------------------------


def _exception_name(exc: BaseException) -> str:
    """The class name a student sees: their own class's name when the grader rebuilt it."""
    return getattr(exc, "student_type", None) or type(exc).__name__


def raises(exc_type, func, *args, **kwargs) -> None:
    """Assert that ``func(*args, **kwargs)`` raises ``exc_type`` (or a subclass) with a message.

    Args:
        exc_type: The exception class expected.
        func: The function to call.
        args: Its positional arguments.
        kwargs: Its keyword arguments.

    Raises:
        AssertionError: It returned, raised something else, or raised without a message.
    """
    call = _describe_call(func, args, kwargs)
    try:
        func(*args, **kwargs)
    except exc_type as exc:
        if not str(exc).strip():
            raise AssertionError(
                f"{call} raised {_exception_name(exc)} without a message: say what was wrong"
            ) from None
        return
    except Exception as exc:
        raise AssertionError(
            f"{call} raised {_exception_name(exc)}: "
            f"{getattr(exc, 'student_message', exc)}; expected "
            f"{exc_type.__name__} (or a subclass of it)"
        ) from None
    raise AssertionError(f"{call} should raise {exc_type.__name__}, but it returned normally")


#: The likely mistake behind a numerical warning, added to the message of no_warnings.
WARNING_HINTS = {
    "overflow encountered in exp": " - np.exp overflowed: rewrite the formula so that exp "
    "only ever sees arguments <= 0 (subtract the max)",
}


def no_warnings(func, *args, **kwargs):
    """Call ``func`` and assert that it emits no numerical warning.

    NumPy reports overflow, underflow to NaN, division by zero and invalid
    operations as ``RuntimeWarning``; those mean the code is not numerically
    safe. Other warnings (a student's own debugging ``warnings.warn``) are noise
    and do not count.

    Args:
        func: The function to call.
        args: Its positional arguments.
        kwargs: Its keyword arguments.

    Returns:
        What it returned.

    Raises:
        AssertionError: It emitted a RuntimeWarning.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    numerical = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if numerical:
        first = numerical[0]
        hint = next((h for k, h in WARNING_HINTS.items() if k in str(first.message)), "")
        raise AssertionError(
            f"{_describe_call(func, args, kwargs)} emitted a "
            f"{first.category.__name__}: {first.message}{hint}"
        )
    return result


_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _argument_name(key) -> str:
    if isinstance(key, int):
        return f"its {_ORDINALS[key]} argument" if key < len(_ORDINALS) else f"argument {key + 1}"
    return f"its argument `{key}`"


def leaves_input_alone(func, z, *args, **kwargs):
    """Call ``func(z, ...)`` and assert that none of its array or list arguments changed.

    The grader's proxy of a student's function never lets a call change the test's
    own data; it reports instead which arguments the call changed (``last_call``).

    Args:
        func: The function to call.
        z: Its first argument.
        args: Its other positional arguments.
        kwargs: Its keyword arguments.

    Returns:
        What it returned.

    Raises:
        AssertionError: It changed an argument in place.
    """
    before: dict[int | str, np.ndarray] = {
        i: np.array(a, copy=True)
        for i, a in enumerate((z, *args))
        if isinstance(a, (np.ndarray, list))
    }
    before.update(
        {k: np.array(a, copy=True) for k, a in kwargs.items() if isinstance(a, (np.ndarray, list))}
    )
    result = func(z, *args, **kwargs)
    values: dict[int | str, object] = dict(enumerate((z, *args)))
    for name, value in kwargs.items():
        values[name] = value
    record = getattr(func, "last_call", None)
    changed = set(getattr(record, "changed", ()))
    changed |= {
        key
        for key, copy in before.items()
        if not np.array_equal(np.asarray(values[key]), copy, equal_nan=True)
    }
    if changed:
        key = min(changed, key=lambda k: (not isinstance(k, int), str(k)))
        raise AssertionError(
            f"{getattr(func, '__name__', 'the function')} modified "
            f"{_argument_name(key)} in place (e.g. `z -= z.max()` or "
            "`z[z < t] = ...`): work on a copy instead"
        )
    return result


def returns_a_copy(func, z, *args, **kwargs):
    """Call ``func(z, ...)`` and assert that the result does not share memory with ``z``.

    Args:
        func: The function to call.
        z: Its first argument.
        args: Its other positional arguments.
        kwargs: Its keyword arguments.

    Returns:
        What it returned.

    Raises:
        AssertionError: It returned ``z`` itself or a view of it.
    """
    result = func(z, *args, **kwargs)
    record = getattr(func, "last_call", None)
    aliased = 0 in set(getattr(record, "aliased", ()))
    if isinstance(result, np.ndarray) and isinstance(z, np.ndarray):
        aliased = aliased or np.may_share_memory(result, z)
    if aliased or result is z:
        raise AssertionError(
            f"{getattr(func, '__name__', 'the function')} returned its input "
            "array itself (or a view of it), so a caller who changes the result "
            "changes their own logits too: return a copy (e.g. z.astype(dtype) "
            "or z.copy())"
        )
    return result


def output_and_weights(result):
    """Assert that attention returned the pair (output, weights) of arrays.

    Args:
        result: What scaled_dot_product_attention returned.

    Returns:
        The pair.

    Raises:
        AssertionError: It is not a pair of arrays.
    """
    if not (isinstance(result, tuple) and len(result) == 2):
        got = (
            f"a {type(result).__name__} of shape {np.shape(result)}"
            if isinstance(result, np.ndarray)
            else f"a {type(result).__name__}"
        )
        raise AssertionError(
            f"scaled_dot_product_attention should return the pair (output, weights), got {got}"
        )
    for part, what in zip(result, ("output", "weights"), strict=True):
        if not isinstance(part, np.ndarray):
            raise AssertionError(
                f"the attention {what} should be a NumPy array, got {type(part).__name__}"
            )
    return result


def peak_memory(func, *args, **kwargs):
    """Call ``func(*args, **kwargs)`` and measure the memory the call allocated.

    The peak counts Python objects and NumPy arrays (which NumPy reports to
    :mod:`tracemalloc`), not what existed before. Arguments that are generators are
    consumed during the call, so the blocks they yield count too, for as long as the
    function keeps them. In Jupyter the call is traced here; under the grader (``grade``
    and ``check``) ``func`` stands for the student's function and is traced in the
    student's own process, with the same meaning.

    Args:
        func: The function to call.
        args: Its positional arguments.
        kwargs: Its keyword arguments.

    Returns:
        (what the call returned, the peak in bytes).

    Raises:
        AssertionError: The grader could not measure the peak.
    """
    measure = getattr(func, "measure_peak", None)
    if callable(measure) and not isinstance(func, type(peak_memory)):
        result, peak = measure(*args, **kwargs)
        if peak is None:
            raise AssertionError(
                f"the peak memory of {_describe_call(func, args, kwargs)} could not be measured"
            )
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
    """A byte count for a message, e.g. ``'12.3 MB'``.

    Args:
        n_bytes: The count.

    Returns:
        It in megabytes, to one decimal.
    """
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
