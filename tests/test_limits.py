"""A Limits other than the defaults takes effect on both sides of the sandbox.

The worker's caps (printed output, exception messages, warnings) and the wire protocol's
(message size, nesting depth) were once read from ``limits.DEFAULTS`` alone, although every
field of the Limits in use is part of a saved result's key.
"""

import pytest

from autograder.checker import run_test
from autograder.limits import DEFAULTS, Limits
from autograder.notebooks import GradedCell
from autograder.student_proxy import Clock, GradingLimit, StudentFunction, StudentProcess


def _process(tmp_path, **fields) -> StudentProcess:
    tmp_path.mkdir(parents=True, exist_ok=True)
    process = StudentProcess(tmp_path, Limits(cell_seconds=10, memory_mb=1024, **fields), None)
    process.start()
    return process


def test_limits_travel_as_json():
    chosen = Limits(worker_output_chars=7, nesting_depth=3, feedback_seconds=1.5)
    assert Limits.from_json(chosen.to_json()) == chosen
    with pytest.raises(ValueError):
        Limits.from_json('{"no_such_limit": 1}')


def test_the_workers_output_cap_is_the_limits_in_use(tmp_path):
    process = _process(tmp_path, worker_output_chars=50)
    try:
        done = process.exec_cell("print('x' * 1000)", timeout=30)
    finally:
        process.close()
    assert done.ok
    assert done.stdout.startswith("x" * 50 + "\n[... 951 more characters")
    assert DEFAULTS.worker_output_chars > 1000  # the default would have kept it all


def test_the_exception_message_cap_is_the_limits_in_use(tmp_path):
    process = _process(tmp_path, error_message_chars=12)
    try:
        process.exec_cell("def f():\n    raise ValueError('y' * 100)", timeout=30)
        with pytest.raises(ValueError) as caught:
            StudentFunction(process, "f", Clock(10))()
    finally:
        process.close()
    assert caught.value.student_message == "y" * 12


def test_the_nesting_depth_is_the_limits_in_use(tmp_path):
    code = "def f():\n    return [[[[[[1]]]]]]"
    shallow = _process(tmp_path / "a", nesting_depth=3)
    default = _process(tmp_path / "b")
    try:
        shallow.exec_cell(code, timeout=30)
        default.exec_cell(code, timeout=30)
        with pytest.raises(TypeError, match="cannot accept"):
            StudentFunction(shallow, "f", Clock(10))()
        assert StudentFunction(default, "f", Clock(10))() == [[[[[[1]]]]]]
    finally:
        shallow.close()
        default.close()


def test_the_message_size_is_the_limits_in_use(tmp_path):
    process = _process(tmp_path, message_bytes=10_000)
    try:
        process.exec_cell("def f():\n    return 'z' * 100_000", timeout=30)
        with pytest.raises(GradingLimit, match="too large"):
            StudentFunction(process, "f", Clock(10))()
    finally:
        process.close()


def test_a_tests_output_cap_is_the_limits_in_use():
    cell = GradedCell(grade_id="t", code="print('w' * 500)\n", points=1.0, description="")
    chosen = run_test(cell, {}, Clock(5.0), hidden=False, limits=Limits(test_output_chars=20))
    default = run_test(cell, {}, Clock(5.0), hidden=False)
    assert chosen.output.startswith("w" * 20 + "\n[... 481 more characters not shown]")
    assert default.output == "w" * 500 + "\n"
