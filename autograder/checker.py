"""Running a submission's test cells on the trusted side, against proxies of its functions.

``grade_notebook`` walks the submission in order. Code the student wrote runs
in the student's process; the course's given cells are restored from the
source; every test cell comes from the source (never from the submission) and
runs here, in the checker, against proxies of the student's functions. A test
passes when its code finishes without an exception, and then earns the points
the source gives it.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import re
import tempfile
import time
import traceback
import warnings
from pathlib import Path

from .limits import DEFAULTS, Limits
from .notebooks import Assignment, bound_names, nbgrader_meta
from .plan import plan_submission, read_or_fail, where_defined
from .results import CellResult, NotebookResult, cap
from .sandbox import Sandbox
from .student_proxy import Clock, GradingLimit, StudentFunction, StudentProcess

HIDDEN_OUTPUT_NOTE = (
    "[What the code printed during this test is not shown: the test has "
    "hidden parts, and the output could reveal their inputs.]\n"
)


def _from_student(exc: BaseException | None) -> BaseException | None:
    """The exception in ``exc``'s chain that the student's code raised, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "student_type", None):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _failure_message(
    exc: BaseException, test, filename: str, notes: dict[str, str] | None = None
) -> str:
    """Why a test failed, for the student, in words they can act on.

    The exception, the test's line (unless it is a hidden one) and, when their code raised,
    their own traceback lines (never the grader's). A function that is not written yet, or not defined because its cell
    failed, gets a message that says so.
    """
    hidden = test.hidden_line_numbers()
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            where = (
                "in a hidden test"
                if frame.lineno in hidden
                else f"line {frame.lineno}: {(frame.line or '').strip()}"
            )
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if isinstance(exc, AssertionError) and not str(exc):
        text = "AssertionError (a check failed)"
    student = _from_student(exc)
    function = getattr(student, "student_function", None)
    if (
        student is exc
        and isinstance(exc, NotImplementedError)
        and getattr(exc, "student_type", None) == "NotImplementedError"
    ):
        text = (
            f"NotImplementedError: {function} is not written yet - replace the "
            "`raise NotImplementedError()` line of its answer cell with your code"
        )
    elif student is exc and isinstance(exc, NameError) and notes and function in notes:
        text = f"NameError: {notes[function]}"
    parts = [text] + ([f"  ({where})"] if where else [])
    frames = getattr(student, "student_traceback", "")
    if frames:
        parts.append(
            "  Where your code raised it:\n"
            + "\n".join("  " + line for line in frames.rstrip("\n").splitlines())
        )
    return "\n".join(parts)


def run_test(
    test,
    namespace: dict,
    clock: Clock,
    hidden: bool = True,
    notes: dict[str, str] | None = None,
    limits: Limits = DEFAULTS,
) -> CellResult:
    """Run one test cell's code in the checker; any exception means it failed.

    Args:
        test: The test cell (an ``autograder.notebooks.TestCell``).
        namespace: The names the test sees (the student's functions as proxies).
        clock: The time the test cell has, shared by all its calls.
        hidden: Whether the hidden tests run too (False for a student's self-check).
        notes: Maps an exercise name to why it is not defined (its cell failed).
        limits: ``test_output_chars`` caps the printed output kept.

    Returns:
        The test's result.
    """
    code = test.code if hidden else test.visible_code
    filename = f"<test {test.grade_id}>"
    # Tracebacks and warnings quote lines from linecache: hidden lines stay blank there.
    hidden_lines = test.hidden_line_numbers() if hidden else set()
    shown = [
        "\n" if number in hidden_lines else line
        for number, line in enumerate(code.splitlines(True), start=1)
    ]
    linecache.cache[filename] = (len(code), None, shown, filename)
    out = io.StringIO()
    clock.restart()
    passed, message = True, ""
    # Warnings are recorded here, not left to whoever handles them outside: under pytest
    # (which records every test's warnings itself) they would never reach the output.
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            exec(compile(code, filename, "exec"), namespace)
        except GradingLimit:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the test
            passed, message = False, _failure_message(exc, test, filename, notes)
    printed = out.getvalue() + "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in caught
    )
    if hidden_lines and printed:
        # What the student's code printed while a hidden test called it would show
        # that test's inputs (or the expected values it was compared with).
        printed = HIDDEN_OUTPUT_NOTE
    return CellResult(
        test.grade_id,
        test.description,
        test.points,
        test.points if passed else 0.0,
        passed,
        message,
        cap(printed, limits.test_output_chars),
    )


def _restart(process: StudentProcess, ran, limits: Limits, deadline: float) -> str | None:
    """Start a fresh student process and run again the cells that ran before.

    Returns why that failed, or None.
    """
    try:
        process.restart()
        for code, label in ran:
            left = deadline - time.monotonic()
            if left <= 0:
                return "the notebook ran out of time"
            process.exec_cell(code, min(limits.cell_seconds, left), name=label)
    except (GradingLimit, OSError) as exc:
        return str(exc)
    return None


_SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")


def _note_failed_cell(
    notes: dict, assignment: Assignment, nb: dict, index: int, code: str, done
) -> None:
    """Remember, for each exercise function a failed cell would define, why it may be missing."""
    grade_id = nbgrader_meta(nb["cells"][index]).get("grade_id")
    cell = f"cell {index + 1}" + (
        f" (the answer cell '{grade_id}')" if grade_id in assignment.solutions else ""
    )
    line = f" at line {done.error_line}" if done.error_line else ""
    message = re.sub(r" \(<[^>]*>, line \d+\)$", "", done.error_message)
    for name in set(bound_names(code)) & set(assignment.exercise_names):
        if done.error_type in _SYNTAX_ERRORS:
            notes[name] = (
                f"{name} is not defined: {cell} has a {done.error_type}{line} "
                f"({message}), so none of that cell ran - fix it and run it again"
            )
        else:
            notes[name] = (
                f"{name} is not defined: {cell} stopped{line} with "
                f"{done.error_type}: {message} - before it defined {name}"
            )


def grade_notebook(
    assignment: Assignment,
    path: Path,
    limits: Limits,
    sandbox: Sandbox | None,
    hidden: bool = True,
    scratch_root: Path | None = None,
    on_test=None,
    nb: dict | None = None,
) -> NotebookResult:
    """Grade one submitted notebook against the trusted source assignment.

    Args:
        assignment: The trusted assignment (its tests and given cells come from it).
        path: The submitted notebook.
        limits: The limits of this grading run (time, memory, caps).
        sandbox: The sandbox to run the student's code in, or None to run it unsandboxed.
        hidden: Whether the hidden tests run too (False for a student's self-check).
        scratch_root: Where the scratch folder is made (the system's default when None).
        on_test: Called with each test's :class:`CellResult` as soon as it is graded.
        nb: The submission already read by :func:`read_or_fail`; without it the file at
            ``path`` is read here.

    Returns:
        The notebook's result (a failed one when it cannot be read or run).
    """
    started = time.monotonic()
    if nb is None:
        nb, failure = read_or_fail(assignment, path, limits.notebook_bytes)
        if failure is not None:
            return failure
    assert nb is not None  # read_or_fail gives a notebook or a failure
    result = NotebookResult(
        assignment.assignment_id, assignment.notebook_name, "graded", 0.0, assignment.max_score
    )
    steps, problems = plan_submission(assignment, nb)
    result.problems += problems
    results: dict[str, CellResult] = {}
    notebook_deadline = started + limits.notebook_seconds
    with tempfile.TemporaryDirectory(prefix="grade-", dir=scratch_root) as scratch:
        process = StudentProcess(Path(scratch), limits, sandbox)
        clock = Clock(limits.cell_seconds)
        namespace: dict[str, object] = {"__name__": "__main__"}
        # The checker's namespace: the course's own given code, then the proxies.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for grade_id, code in assignment.given.items():
                exec(compile(code, f"<given {grade_id}>", "exec"), namespace)
        # Why an exercise function may be undefined, for the tests' NameError messages.
        notes: dict[str, str] = {}
        where = where_defined(steps)
        for name in assignment.exercise_names:
            namespace[name] = StudentFunction(process, name, clock)
            if name not in where:
                notes[name] = (
                    f"{name} is not defined: no cell of the notebook defines it "
                    "(was its answer cell deleted?)"
                )
        timings = result.timings
        ran: list[tuple[str, str]] = []  # (code, cell name) of the notebook cells run so far
        restarts = 0
        try:
            mark = time.monotonic()
            process.start()
            try:
                process.exec_cell("pass", limits.cell_seconds)  # the interpreter is up
            except GradingLimit as exc:
                result.problems.append(f"the student's process did not start: {exc}")
            timings["process_start"] = time.monotonic() - mark
            for kind, index, payload in steps:
                mark = time.monotonic()
                if process.dead_reason:
                    break
                left = notebook_deadline - time.monotonic()
                if left <= 0:
                    result.problems.append(
                        "grading stopped early: the notebook ran longer "
                        f"than {limits.notebook_seconds:g} s in all"
                    )
                    break
                cell_time = min(limits.cell_seconds, left)
                label = f"cell {index + 1}" if index is not None else f"course cell {payload}"
                try:
                    if kind == "test":
                        test = assignment.tests[payload]
                        clock.seconds = cell_time
                        outcome = run_test(
                            test, namespace, clock, hidden=hidden, notes=notes, limits=limits
                        )
                        results[payload] = outcome
                        timings["tests"] = timings.get("tests", 0.0) + time.monotonic() - mark
                        if on_test:
                            on_test(outcome)
                    else:
                        code = assignment.given[payload] if kind == "given" else payload
                        if not code.strip():
                            continue
                        done = process.exec_cell(code, cell_time, name=label)
                        ran.append((code, label))
                        timings["notebook_code"] = (
                            timings.get("notebook_code", 0.0) + time.monotonic() - mark
                        )
                        if index is not None and (done.stdout or done.error):
                            result.cell_outputs[index] = {
                                "stdout": cap(done.stdout, limits.test_output_chars),
                                "error": cap(done.error, limits.test_output_chars),
                            }
                        if not done.ok and index is not None:
                            _note_failed_cell(notes, assignment, nb, index, code, done)
                except GradingLimit as exc:
                    if kind == "test":
                        results[payload] = CellResult(
                            payload,
                            assignment.tests[payload].description,
                            assignment.tests[payload].points,
                            0.0,
                            False,
                            f"stopped: {exc}",
                        )
                        if on_test:
                            on_test(results[payload])
                    elif index is not None:
                        result.cell_outputs[index] = {"stdout": "", "error": f"Stopped: {exc}"}
                    if restarts >= limits.restarts:
                        result.problems.append(f"grading stopped early: {exc}")
                        break
                    # One mistake costs one mistake: the tests after it run in a fresh
                    # process, with the notebook's cells (except this one) run again.
                    restarts += 1
                    what = f"test '{payload}'" if kind == "test" else label
                    result.problems.append(
                        f"{what} was stopped ({exc}); the notebook's code "
                        "ran again in a fresh process for what follows"
                    )
                    failed = _restart(process, ran, limits, notebook_deadline)
                    if failed:
                        result.problems.append(
                            f"grading stopped early: running the notebook's "
                            f"code again failed ({failed})"
                        )
                        break
        finally:
            process.close()

    if process.scratch_filled:
        result.problems.append(
            f"the code wrote more than {limits.scratch_mb} MB into its scratch "
            "folder, the limit: writing more failed"
        )
    for grade_id, test in assignment.tests.items():
        if grade_id not in results:
            if process.dead_reason:
                reason = f"not run: {process.dead_reason}"
            else:
                reason = "not run: this test cell is missing from the notebook"
            results[grade_id] = CellResult(
                grade_id, test.description, test.points, 0.0, False, reason
            )
    result.tests = [results[g] for g in assignment.tests]
    result.score = float(sum(t.score for t in result.tests))
    result.seconds = time.monotonic() - started
    return result
