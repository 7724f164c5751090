"""Plain data across the sandbox boundary.

Student code runs in its own process. Only *plain data* crosses back to the
trusted checker: numbers, strings, booleans, None, lists, tuples, dicts with
string keys, NumPy arrays of numeric or boolean dtype (as ``.npy`` bytes, never
pickles) and the state of a NumPy random generator. Anything else is refused,
so no object of the student's can run code in the checker.

Messages are JSON objects, one per line.
"""

from __future__ import annotations

import base64
import io
import json
import math

import numpy as np

from .limits import DEFAULTS

#: Largest message either side accepts, in bytes, unless given its own limits.
MAX_MESSAGE_BYTES = DEFAULTS.message_bytes

_ALLOWED_KINDS = set("biufc")  # bool, int, uint, float, complex


class ProtocolError(Exception):
    """A message that is not plain data of the agreed form."""


def _array_to_text(a: np.ndarray) -> str:
    if a.dtype.kind not in _ALLOWED_KINDS:
        raise ProtocolError(f"arrays of dtype {a.dtype} cannot be sent")
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _text_to_array(text: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        a = np.load(io.BytesIO(raw), allow_pickle=False)
    except Exception as exc:  # any malformed payload is the sender's fault
        raise ProtocolError(f"malformed array: {exc}") from None
    if not isinstance(a, np.ndarray) or a.dtype.kind not in _ALLOWED_KINDS:
        raise ProtocolError("malformed array")
    return a


def encode(value, _depth: int = 0, max_depth: int = DEFAULTS.nesting_depth):
    """Turn ``value`` into JSON-ready plain data.

    Args:
        value: What to send.
        _depth: How deeply ``value`` is nested (for the recursion; callers leave it out).
        max_depth: The deepest nesting of lists, tuples and dicts allowed
            (``Limits.nesting_depth``).

    Returns:
        The value as plain JSON data (tagged dicts for floats, arrays, tuples, ...).

    Raises:
        ProtocolError: It is not plain data, or it is nested too deeply.
    """
    if _depth > max_depth:
        raise ProtocolError("value is nested too deeply")
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        return {"__float__": repr(value)}
    if type(value) is complex:
        return {"__complex__": [repr(value.real), repr(value.imag)]}
    if isinstance(value, np.ndarray) and type(value) is np.ndarray:
        return {"__ndarray__": _array_to_text(value)}
    if isinstance(value, np.generic):
        return {"__npscalar__": _array_to_text(np.asarray(value))}
    if type(value) is list:
        return [encode(v, _depth + 1, max_depth) for v in value]
    if type(value) is tuple:
        return {"__tuple__": [encode(v, _depth + 1, max_depth) for v in value]}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise ProtocolError("only dicts with string keys can be sent")
        return {"__dict__": {k: encode(v, _depth + 1, max_depth) for k, v in value.items()}}
    if isinstance(value, np.random.Generator):
        bitgen = value.bit_generator
        return {
            "__generator__": {"kind": type(bitgen).__name__, "state": _plain_state(bitgen.state)}
        }
    raise ProtocolError(f"a value of type {type(value).__name__} cannot be sent")


def _plain_state(state):
    """A bit generator's state is nested dicts of ints and strings."""
    if isinstance(state, dict):
        return {str(k): _plain_state(v) for k, v in state.items()}
    if isinstance(state, (int, str)):
        return state
    if isinstance(state, np.integer):
        return int(state)
    if isinstance(state, np.ndarray):
        return {"__ndarray__": _array_to_text(state)}
    raise ProtocolError("unexpected generator state")


def _state_from_plain(state):
    if isinstance(state, dict):
        if set(state) == {"__ndarray__"}:
            return _text_to_array(state["__ndarray__"])
        return {k: _state_from_plain(v) for k, v in state.items()}
    return state


_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}


def generator_from_plain(spec) -> np.random.Generator:
    """Rebuild a NumPy ``Generator`` from its plain-data state.

    Args:
        spec: {"kind": bit generator's class name, "state": its plain state}.

    Returns:
        The generator.

    Raises:
        ProtocolError: the kind of bit generator or its state is not one we know.
    """
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind not in _BIT_GENERATORS:
        raise ProtocolError("unknown bit generator")
    bitgen = _BIT_GENERATORS[kind]()
    try:
        bitgen.state = _state_from_plain(spec["state"])
    except Exception:
        raise ProtocolError("malformed generator state") from None
    return np.random.Generator(bitgen)


def decode(data, _depth: int = 0, max_depth: int = DEFAULTS.nesting_depth):
    """Inverse of :func:`encode`; accepts nothing but plain data.

    Args:
        data: A message's value, as JSON gave it.
        _depth: How deeply ``data`` is nested (for the recursion; callers leave it out).
        max_depth: The sender's nesting limit (``Limits.nesting_depth``); its tags may
            nest two levels more.

    Returns:
        The value rebuilt.

    Raises:
        ProtocolError: It is not plain data of the agreed form, or nests too deeply.
    """
    if _depth > max_depth + 2:
        raise ProtocolError("value is nested too deeply")
    if data is None or type(data) in (bool, int, str):
        return data
    if type(data) is float:
        return data
    if type(data) is list:
        return [decode(v, _depth + 1, max_depth) for v in data]
    if type(data) is dict and len(data) == 1:
        ((tag, payload),) = data.items()
        if tag == "__float__" and payload in ("nan", "inf", "-inf"):
            return float(payload)
        if tag == "__complex__" and type(payload) is list and len(payload) == 2:
            try:
                return complex(float(payload[0]), float(payload[1]))
            except (TypeError, ValueError):
                raise ProtocolError("malformed complex") from None
        if tag == "__ndarray__" and type(payload) is str:
            return _text_to_array(payload)
        if tag == "__npscalar__" and type(payload) is str:
            a = _text_to_array(payload)
            if a.ndim != 0:
                raise ProtocolError("malformed scalar")
            return a[()]
        if tag == "__tuple__" and type(payload) is list:
            return tuple(decode(v, _depth + 1, max_depth) for v in payload)
        if tag == "__dict__" and type(payload) is dict:
            return {str(k): decode(v, _depth + 1, max_depth) for k, v in payload.items()}
        if tag == "__generator__":
            return generator_from_plain(payload)
    raise ProtocolError("message holds something other than plain data")


def dumps(message: dict) -> bytes:
    """One message as a line of JSON (NaN and infinities are refused: encode them first).

    Args:
        message: A dict of JSON-ready data (see :func:`encode`).

    Returns:
        The line, ending in a newline.
    """
    return json.dumps(message, allow_nan=False).encode("utf-8") + b"\n"


def loads(line: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> dict:
    """One line of JSON as a message (a dict), within the size and depth caps.

    Args:
        line: The message's bytes.
        max_bytes: The largest message accepted (``Limits.message_bytes``).

    Returns:
        The message.

    Raises:
        ProtocolError: too large, not JSON, or not a dict of plain data.
    """
    if len(line) > max_bytes:
        raise ProtocolError("message too large")
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("message is not JSON") from None
    except RecursionError:
        raise ProtocolError("message nests lists or objects too deeply") from None
    if not isinstance(message, dict):
        raise ProtocolError("message is not an object")
    return message


# -- lazy streams and measured calls ------------------------------------------------------
#
# A test may pass an *iterator* (a generator of blocks, say) to a student's function. It
# cannot be sent as data, so it stays in the checker and the argument travels as a
# placeholder ``{"__stream__": n}``. While the call runs, the worker asks for one item at a
# time (``{"stream_next": n}`` on the reply pipe) and the checker answers on the request
# pipe with ``{"op": "stream_item", "stream": n, "item": ...}`` or ``{..., "stop": true}``.
# Items are plain data like everything else. A call may also ask for its peak memory
# (``"measure": true``): the worker traces the call with tracemalloc and adds
# ``"peak_bytes"`` to its reply.

STREAM_TAG = "__stream__"


def is_stream(value) -> bool:
    """Whether ``value`` should cross lazily.

    Args:
        value: An argument of a call.

    Returns:
        True for an iterator (a generator, ``iter(...)``, ``map``), not a random generator.
    """
    from collections.abc import Iterator

    return isinstance(value, Iterator) and not isinstance(value, np.random.Generator)


def encode_arguments(
    args: list, kwargs: dict, max_depth: int = DEFAULTS.nesting_depth
) -> tuple[list, dict, dict]:
    """Encode a call's arguments, top-level iterators as stream placeholders.

    Args:
        args: The positional arguments.
        kwargs: The keyword arguments.
        max_depth: The nesting limit (``Limits.nesting_depth``).

    Returns:
        (encoded args, encoded kwargs, {stream number: iterator}).

    Raises:
        ProtocolError: An argument is not plain data.
    """
    streams: dict[int, object] = {}

    def one(value):
        """One argument, encoded or decoded (a stream's placeholder handled).

        Args:
            value: The argument.

        Returns:
            It, across the wire.
        """
        if is_stream(value):
            streams[len(streams)] = value
            return {STREAM_TAG: len(streams) - 1}
        return encode(value, max_depth=max_depth)

    return (
        [one(v) for v in args],
        {"__dict__": {str(k): one(v) for k, v in kwargs.items()}},
        streams,
    )


def decode_arguments(data, open_stream, max_depth: int = DEFAULTS.nesting_depth):
    """Inverse of :func:`encode_arguments`, on the worker's side.

    Args:
        data: The encoded args (a list) or kwargs (a tagged dict).
        open_stream: Called with a placeholder's number; returns the lazy iterator.
        max_depth: The nesting limit (``Limits.nesting_depth``).

    Returns:
        The arguments, placeholders replaced by ``open_stream(number)``.

    Raises:
        ProtocolError: Something other than plain data.
    """

    def one(value):
        """One argument, encoded or decoded (a stream's placeholder handled).

        Args:
            value: The argument.

        Returns:
            It, across the wire.
        """
        if type(value) is dict and set(value) == {STREAM_TAG} and type(value[STREAM_TAG]) is int:
            return open_stream(value[STREAM_TAG])
        return decode(value, max_depth=max_depth)

    if type(data) is list:
        return [one(v) for v in data]
    if type(data) is dict and set(data) == {"__dict__"} and type(data["__dict__"]) is dict:
        return {str(k): one(v) for k, v in data["__dict__"].items()}
    return decode(data, max_depth=max_depth)


def peak_bytes(reply: dict) -> int | None:
    """The peak memory a measured call reported.

    Args:
        reply: The worker's reply.

    Returns:
        The peak in bytes, or None if it is not a sane number.
    """
    value = reply.get("peak_bytes")
    return value if type(value) is int and value >= 0 else None
