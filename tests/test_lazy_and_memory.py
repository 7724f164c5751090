"""Grader capabilities of chapter 07: a test can measure the peak memory of one call in the
student's process, and pass a generator that crosses the sandbox boundary lazily."""

import numpy as np
import pytest

from autograder import protocol
from autograder.sandbox import Limits, Sandbox, SandboxUnavailable
from autograder.student_proxy import Clock, StudentFunction, StudentProcess
from course.checks import peak_memory

CODE = """
import numpy as np

def lazy(blocks, scale=1.0):
    total = 0.0
    for b in blocks:
        total += float(np.sum(b)) * scale
    return total

def hoard(blocks):
    return float(np.concatenate(list(blocks)).sum())

def big(n):
    return float(np.ones(n).sum())

kept = []

def keep_iterator(blocks):
    kept.append(blocks)
    return 0.0

def read_kept():
    return float(sum(np.sum(b) for b in kept[0]))
"""


def _process(tmp_path, sandboxed):
    sandbox = None
    if sandboxed:
        try:
            sandbox = Sandbox.find()
        except SandboxUnavailable as exc:
            pytest.skip(str(exc))
    process = StudentProcess(tmp_path, Limits(cell_seconds=20, memory_mb=1024), sandbox)
    process.start()
    done = process.exec_cell(CODE, timeout=30)
    assert done.ok, done.error
    return process


@pytest.fixture(params=[False, True], ids=["plain", "sandboxed"])
def student(tmp_path, request):
    process = _process(tmp_path, request.param)
    yield lambda name: StudentFunction(process, name, Clock(20))
    process.close()


def blocks(n=200, size=10_000, pulled=None):
    for i in range(n):
        if pulled is not None:
            pulled.append(i)
        yield np.full(size, 1.0)


def test_peak_memory_is_measured_in_the_students_process(student):
    result, peak = peak_memory(student("big"), 2_000_000)
    assert result == 2_000_000.0
    assert 16e6 <= peak < 20e6  # one array of 2e6 float64, allocated by the call


def test_a_generator_crosses_lazily_and_completely(student):
    pulled = []
    lazy = student("lazy")
    assert lazy(blocks(50, 10, pulled), scale=2.0) == 1000.0
    assert pulled == list(range(50))
    assert lazy(blocks=iter([np.ones(3), [1.0, 2.0]])) == 6.0
    assert lazy(iter([])) == 0.0
    assert lazy([np.ones(2), np.ones(2)]) == 4.0  # lists still travel as data


def test_keeping_every_block_shows_in_the_peak(student):
    total = 200 * 10_000 * 8
    result, lazy_peak = peak_memory(student("lazy"), blocks())
    assert result == 2e6 and lazy_peak < total / 8
    result, hoard_peak = peak_memory(student("hoard"), blocks())
    assert result == 2e6 and hoard_peak > total


def test_the_same_measure_in_plain_python():
    namespace = {}
    exec(CODE, namespace)
    _, lazy_peak = peak_memory(namespace["lazy"], blocks())
    _, hoard_peak = peak_memory(namespace["hoard"], blocks())
    assert lazy_peak < 200 * 10_000 * 8 / 8 < 200 * 10_000 * 8 < hoard_peak


def test_a_failing_generator_fails_the_call_not_the_grader(student):
    def broken():
        yield np.ones(2)
        raise KeyError("no more")

    with pytest.raises(RuntimeError, match="KeyError"):
        student("lazy")(broken())
    assert student("big")(3) == 3.0  # the process still answers


def test_a_kept_iterator_is_dead_after_its_call(student):
    assert student("keep_iterator")(blocks(3, 2)) == 0.0
    with pytest.raises(RuntimeError, match="only be read during the call"):
        student("read_kept")()
    assert student("big")(4) == 4.0


def test_stream_placeholders_are_only_top_level_arguments():
    args, kwargs, streams = protocol.encode_arguments([iter([1]), [1, 2]], {"b": (x for x in [])})
    assert args[0] == {"__stream__": 0} and kwargs["__dict__"]["b"] == {"__stream__": 1}
    assert sorted(streams) == [0, 1]
    assert protocol.decode_arguments(args, lambda n: f"stream {n}") == ["stream 0", [1, 2]]
    with pytest.raises(protocol.ProtocolError):  # nested iterators are not plain data
        protocol.encode_arguments([[iter([1])]], {})
    assert protocol.peak_bytes({"peak_bytes": 12}) == 12
    assert protocol.peak_bytes({"peak_bytes": -1}) is None
    assert protocol.peak_bytes({"peak_bytes": "12"}) is None
