"""Only plain data crosses the sandbox boundary."""

import numpy as np
import pytest

from autograder import protocol


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -2.5,
        "text",
        [1, [2.0, "x"]],
        (1, 2),
        {"a": 1},
        float("nan"),
        float("inf"),
        -float("inf"),
        complex(1, -2),
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([True, False]),
        np.float32(1.5),
        np.int64(7),
        (np.zeros((0, 3)), [np.float64(2.0)]),
    ],
)
def test_round_trip_keeps_value_and_type(value):
    back = protocol.decode(protocol.loads(protocol.dumps({"v": protocol.encode(value)}))["v"])
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, float) and value != value:
        assert back != back
    elif isinstance(value, tuple) and isinstance(value[0], np.ndarray):
        assert back[0].shape == (0, 3) and type(back[1][0]) is np.float64
    else:
        assert back == value


def test_generator_state_crosses_and_continues_identically():
    rng = np.random.default_rng(42)
    rng.random(3)
    copy = protocol.decode(protocol.encode(rng))
    assert np.array_equal(copy.random(5), rng.random(5))


@pytest.mark.parametrize(
    "value", [object(), np.array([object()]), {1: 2}, lambda: 0, np.array(["a", "b"])]
)
def test_refuses_anything_but_plain_data(value):
    with pytest.raises(protocol.ProtocolError):
        protocol.encode(value)


@pytest.mark.parametrize(
    "data",
    [
        {"__pickle__": "gASV"},
        {"__ndarray__": "not base64!"},
        {"x": 1, "y": 2},
        {"__generator__": {"kind": "os.system", "state": {}}},
    ],
)
def test_decode_refuses_forged_payloads(data):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(data)


def test_decode_refuses_pickled_arrays():
    import base64
    import io

    buf = io.BytesIO()
    np.save(buf, np.array([object()]), allow_pickle=True)
    forged = {"__ndarray__": base64.b64encode(buf.getvalue()).decode()}
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(forged)
