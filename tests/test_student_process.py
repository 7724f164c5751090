"""The checker's handle on a student's process: proxies behave like the real
function, and limits stop what runs too long or dies."""

import warnings

import numpy as np
import pytest

from autograder.sandbox import Limits
from autograder.student_proxy import Clock, GradingLimit, StudentFunction, StudentProcess
from course.checks import leaves_input_alone, raises, returns_a_copy


@pytest.fixture
def student(tmp_path):
    process = StudentProcess(tmp_path, Limits(cell_seconds=5, memory_mb=1024), sandbox=None)
    process.start()
    yield process
    process.close()


def define(process, code):
    done = process.exec_cell("import numpy as np\n" + code, timeout=30)
    assert done.ok, done.error
    return done


def test_results_and_types_come_back(student):
    define(student, "def f(z):\n    return np.asarray(z, dtype=np.float32) * 2, 3.5")
    f = StudentFunction(student, "f", Clock(5))
    array, number = f([1, 2])
    assert array.dtype == np.float32 and array.tolist() == [2.0, 4.0]
    assert type(number) is float


def test_in_place_edits_are_recorded_not_applied(student):
    """One bug, one failure: a call that edits its input leaves the test's own data
    alone, and reports which argument it changed (leaves_input_alone reads that)."""
    define(student, "def f(z, w=None):\n    z -= z.max()\n    return z")
    f = StudentFunction(student, "f", Clock(5))
    z = np.array([1.0, 3.0])
    assert f(z).tolist() == [-2.0, 0.0]
    assert z.tolist() == [1.0, 3.0]
    assert f.last_call.changed == {0}
    with pytest.raises(AssertionError, match="modified its first argument in place"):
        leaves_input_alone(f, z)
    define(student, "def g(z, w=None):\n    w[0] = 5\n    return z")
    with pytest.raises(AssertionError, match="argument `w`"):
        leaves_input_alone(StudentFunction(student, "g", Clock(5)), z, w=[1, 2])


def test_a_result_that_is_the_input_is_reported(student):
    define(
        student,
        "def same(z):\n    return z\ndef view(z):\n    return z[::2]\n"
        "def fresh(z):\n    return z.copy()",
    )
    z = np.arange(4.0)
    for name in ("same", "view"):
        with pytest.raises(AssertionError, match="returned its input array itself"):
            returns_a_copy(StudentFunction(student, name, Clock(5)), z)
    returns_a_copy(StudentFunction(student, "fresh", Clock(5)), z)


def test_generator_state_is_mirrored(student):
    define(student, "def draw(rng):\n    return rng.integers(0, 1000, size=3)")
    draw = StudentFunction(student, "draw", Clock(5))
    rng, twin = np.random.default_rng(7), np.random.default_rng(7)
    assert draw(rng).tolist() == twin.integers(0, 1000, size=3).tolist()
    assert rng.random() == twin.random()


def test_warnings_are_re_emitted(student):
    define(student, "def f(x):\n    return 1 / (1 + np.exp(-np.asarray(x)))")
    f = StudentFunction(student, "f", Clock(5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f([-1000.0])
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)


def test_exceptions_keep_their_builtin_hierarchy(student):
    """A subclass of ValueError (the student's own, or NumPy's AxisError) is a ValueError
    on the checker's side too, with the student's class name kept in the message."""
    define(
        student,
        "class Sneaky(Exception):\n    pass\n"
        "class TemperatureError(ValueError):\n    pass\n"
        "def bad(x):\n    raise ValueError('k must be >= 1')\n"
        "def own(x):\n    raise TemperatureError('temperature must be > 0')\n"
        "def axis(x):\n    return np.zeros((2, 2)).sum(axis=5)\n"
        "def odd(x):\n    raise Sneaky('boo')\n"
        "def leaves(x):\n    raise SystemExit(3)",
    )
    with pytest.raises(ValueError, match="k must be"):
        StudentFunction(student, "bad", Clock(5))(1)
    with pytest.raises(ValueError, match="TemperatureError: temperature must be > 0") as info:
        StudentFunction(student, "own", Clock(5))(1)
    assert type(info.value) is ValueError and info.value.student_type == "TemperatureError"
    assert "raise TemperatureError" in info.value.student_traceback
    raises(ValueError, StudentFunction(student, "own", Clock(5)), 0)
    raises(ValueError, StudentFunction(student, "axis", Clock(5)), 0)  # numpy's AxisError
    with pytest.raises(AssertionError, match=r"raised TemperatureError: .*expected TypeError"):
        raises(TypeError, StudentFunction(student, "own", Clock(5)), 0)
    with pytest.raises(Exception, match="Sneaky: boo") as info:
        StudentFunction(student, "odd", Clock(5))(1)
    assert type(info.value) is Exception
    with pytest.raises(RuntimeError, match="SystemExit"):
        StudentFunction(student, "leaves", Clock(5))(1)


def test_a_tests_errstate_holds_around_the_call(student):
    define(student, "def f(x):\n    return np.log(np.asarray(x, dtype=float))")
    f = StudentFunction(student, "f", Clock(5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(divide="ignore"):
            f([0.0])
        assert not caught
        f([0.0])
        assert any(issubclass(w.category, RuntimeWarning) for w in caught)
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        f([0.0])


def test_undefined_function_is_a_name_error(student):
    with pytest.raises(NameError, match="not defined"):
        StudentFunction(student, "softmax", Clock(5))([1.0])


def test_unsendable_result_is_refused(student):
    define(student, "def f():\n    return object()")
    with pytest.raises(TypeError, match="cannot accept"):
        StudentFunction(student, "f", Clock(5))()


def test_endless_loop_hits_the_time_limit(student):
    define(
        student,
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "def spin():\n    while True:\n        pass",
    )
    with pytest.raises(GradingLimit, match="longer than"):
        StudentFunction(student, "spin", Clock(1))()
    with pytest.raises(GradingLimit):  # and the process stays dead
        StudentFunction(student, "spin", Clock(1))()


def test_a_stopped_process_can_restart(student):
    define(student, "def spin():\n    while True:\n        pass")
    with pytest.raises(GradingLimit):
        StudentFunction(student, "spin", Clock(1))()
    student.restart()
    define(student, "def f():\n    return 2")
    assert StudentFunction(student, "f", Clock(5))() == 2


def test_process_exit_is_reported(student):
    with pytest.raises(GradingLimit, match="exit status 3"):
        student.exec_cell("import os\nos._exit(3)", timeout=5)


def test_cell_output_is_captured_and_capped(student):
    done = student.exec_cell("print('x' * 1_000_000)", timeout=10)
    assert done.ok and 10_000 <= len(done.stdout) < 30_000
    assert "more characters of output not shown" in done.stdout


def test_student_stdin_reads_cannot_eat_requests(student):
    done = student.exec_cell("import sys\ndata = sys.stdin.read()\nprint(repr(data))", timeout=5)
    assert done.ok and "''" in done.stdout
    define(student, "def f():\n    return 1")
    assert StudentFunction(student, "f", Clock(5))() == 1


def test_sandbox_hides_the_course_and_the_network(tmp_path):
    """Inside bubblewrap: no solutions/, no writes outside scratch, no network."""
    from autograder import course_dir
    from autograder.sandbox import Sandbox

    process = StudentProcess(tmp_path, Limits(cell_seconds=20), sandbox=Sandbox.find())
    secret = course_dir.notebook_path(course_dir.assignment_ids()[0])
    with process:
        probe = f"""
import os, socket
seen = []
try:
    open({str(secret)!r}).read(); seen.append("read solutions")
except OSError:
    pass
try:
    open({str(course_dir.ROOT / "pwned.txt")!r}, "w").write("x"); seen.append("wrote repo")
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2); seen.append("network")
except OSError:
    pass
try:
    open("/dev/shm/fill", "w").write("x"); seen.append("wrote /dev/shm")
except OSError:
    pass
open("/dev/null", "w").write("devices still work")
open("scratch.txt", "w").write("ok")
assert open("/scratch/scratch.txt").read() == "ok"
import course.checks  # the helper package is there
print("SEEN", seen)
"""
        done = process.exec_cell(probe, timeout=20)
    assert done.ok, done.error
    assert "SEEN []" in done.stdout
    assert not (course_dir.ROOT / "pwned.txt").exists()
    # The scratch is the sandbox's own tmpfs, not a folder of the host.
    assert not (tmp_path / "scratch.txt").exists()


def test_ipython_syntax_in_student_cells_is_harmless(student):
    done = student.exec_cell("%matplotlib inline\n!ls\nx = 41 + 1\nprint(x)", timeout=20)
    assert done.ok, done.error
    assert done.stdout.strip() == "42"


def test_a_test_that_runs_out_of_time_names_its_whole_limit(student):
    """Calls inside one test share its allowance: when a later call runs out, the reason
    names the test's limit (2 s), not the moment that was left of it."""
    define(student, "import time\ndef slow(t):\n    time.sleep(t)\n    return t")
    slow = StudentFunction(student, "slow", Clock(2))
    assert slow(1.9) == 1.9
    with pytest.raises(GradingLimit, match=r"a cell ran longer than 2 s"):
        slow(30)
