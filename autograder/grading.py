"""Grading one notebook: the trusted checker.

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
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .notebooks import Assignment, BadNotebook, defined_names, nbgrader_meta, read_submission
from .sandbox import Limits, Sandbox
from .student import Clock, GradingLimit, StudentFunction, StudentProcess

OUTPUT_CAP = 10_000
HIDDEN_OUTPUT_NOTE = ("[What the code printed during this test is not shown: the test has "
                      "hidden parts, and the output could reveal their inputs.]\n")


@dataclass
class TestResult:
    grade_id: str
    description: str
    points: float
    score: float
    passed: bool
    #: Why it failed, for the student (hidden test code is never quoted).
    message: str = ""
    output: str = ""


@dataclass
class NotebookResult:
    assignment: str
    notebook: str
    status: str  # "graded" or "failed"
    score: float
    max_score: float
    tests: list[TestResult] = field(default_factory=list)
    #: Problems worth telling the student and the instructor (tampering, limits, ...).
    problems: list[str] = field(default_factory=list)
    #: Outputs of the student's own cells, by cell index in the submission.
    cell_outputs: dict[int, dict] = field(default_factory=dict)
    seconds: float = 0.0
    #: Where the time went: process start, student code, tests, feedback (seconds).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return "; ".join(self.problems)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def failed(cls, source: Assignment, reason: str, test_message: str) -> "NotebookResult":
        """A submission that could not be graded: every test failed, with the reason."""
        return cls(source.assignment_id, source.notebook_name, "failed", 0.0, source.max_score,
                   tests=[TestResult(t.grade_id, t.description, t.points, 0.0, False,
                                     test_message) for t in source.tests.values()],
                   problems=[reason])

    @classmethod
    def from_dict(cls, data: dict) -> "NotebookResult":
        data = dict(data)
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        data["cell_outputs"] = {int(k): v for k, v in data.get("cell_outputs", {}).items()}
        return cls(**data)


def _cap(text: str, limit: int = OUTPUT_CAP) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters not shown]\n"


def _failure_message(exc: BaseException, test, filename: str) -> str:
    """Exception text plus the failing line, unless that line is a hidden test."""
    hidden = test.hidden_line_numbers()
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            where = ("in a hidden test" if frame.lineno in hidden
                     else f"line {frame.lineno}: {(frame.line or '').strip()}")
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if isinstance(exc, AssertionError) and not str(exc):
        text = "AssertionError (a check failed)"
    return f"{text}\n  ({where})" if where else text


def run_test(test, namespace: dict, clock: Clock, hidden: bool = True) -> TestResult:
    """Run one test cell's code in the checker; any exception means it failed."""
    code = test.code if hidden else test.visible_code
    filename = f"<test {test.grade_id}>"
    # Tracebacks and warnings quote lines from linecache: hidden lines stay blank there.
    hidden_lines = test.hidden_line_numbers() if hidden else set()
    shown = ["\n" if number in hidden_lines else line
             for number, line in enumerate(code.splitlines(True), start=1)]
    linecache.cache[filename] = (len(code), None, shown, filename)
    out = io.StringIO()
    clock.restart()
    passed, message = True, ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), \
            warnings.catch_warnings():
        warnings.simplefilter("default")
        try:
            exec(compile(code, filename, "exec"), namespace)
        except GradingLimit:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the test
            passed, message = False, _failure_message(exc, test, filename)
    printed = out.getvalue()
    if hidden_lines and printed:
        # What the student's code printed while a hidden test called it would show
        # that test's inputs (or the expected values it was compared with).
        printed = HIDDEN_OUTPUT_NOTE
    return TestResult(test.grade_id, test.description, test.points,
                      test.points if passed else 0.0, passed, message, _cap(printed))


def _code_lines(code: str) -> list[str]:
    """Code compared as its non-blank lines, ignoring trailing white space."""
    return [line.rstrip() for line in code.splitlines() if line.strip()]


def plan_submission(source: Assignment, nb: dict) -> tuple[list[tuple], list[str]]:
    """Decide what runs, in which order, and note what was tampered with.

    Returns (steps, problems). Steps are ("student", index, code),
    ("given", index, grade_id) or ("test", index, grade_id); index is the
    submission cell (None for a cell the submission lacks).
    """
    steps, problems = [], []
    seen_tests, seen_given, seen_solutions = set(), set(), set()
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if grade_id in source.tests:
            if grade_id in seen_tests:
                problems.append(f"test cell '{grade_id}' appears more than once; "
                                "only the first copy is used")
                continue
            seen_tests.add(grade_id)
            if _code_lines(cell["source"]) not in (
                    _code_lines(source.tests[grade_id].visible_code),
                    _code_lines(source.tests[grade_id].code)):
                problems.append(f"test cell '{grade_id}' was edited; the original was run")
            if not meta.get("grade") or meta.get("solution") or \
                    meta.get("points") != source.tests[grade_id].points:
                problems.append(f"the nbgrader metadata of test cell '{grade_id}' was "
                                "altered; the original was used")
            steps.append(("test", index, grade_id))
        elif grade_id in source.solutions:
            seen_solutions.add(grade_id)
            steps.append(("student", index, cell["source"]))
        elif grade_id in source.given and grade_id not in seen_given:
            seen_given.add(grade_id)
            steps.append(("given", index, grade_id))
        else:
            if meta.get("grade") and grade_id not in source.tests:
                problems.append(f"a cell claims to be test '{grade_id}', which the assignment "
                                "does not have; it earns no points")
            steps.append(("student", index, cell["source"]))
    missing_given = [g for g in source.given if g not in seen_given]
    steps = [("given", None, g) for g in missing_given] + steps
    for grade_id in source.tests:
        if grade_id not in seen_tests:
            problems.append(f"test cell '{grade_id}' is missing from the submission; "
                            "it counts as failed")
    for grade_id in source.solutions:
        if grade_id not in seen_solutions:
            problems.append(f"the answer cell '{grade_id}' is missing or its nbgrader "
                            "metadata was changed; its tests count as failed")
    return steps, problems


def missing_solutions(source: Assignment, nb: dict) -> set[str]:
    """Exercise names whose answer cell the submission lacks."""
    present = {nbgrader_meta(c).get("grade_id") for c in nb["cells"]
               if c["cell_type"] == "code"}
    names = set()
    for grade_id, code in source.solutions.items():
        if grade_id not in present:
            names.update(defined_names(code))
    return names


class MissingAnswer:
    """Stands for a function whose answer cell is missing: every call fails."""

    def __init__(self, name: str):
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        raise NameError(f"the answer cell that defines {self.__name__} is missing from the "
                        "notebook (or its metadata was changed), so it is not graded")


def read_or_fail(source: Assignment, path: Path) -> tuple[dict | None, NotebookResult | None]:
    """The submission read once, or the failed result that says why it cannot be."""
    try:
        return read_submission(path), None
    except BadNotebook as exc:
        return None, NotebookResult.failed(source, f"{Path(path).name}: {exc}",
                                           "not run: the notebook could not be read")


def grade_notebook(source: Assignment, path: Path, limits: Limits, sandbox: Sandbox | None,
                   hidden: bool = True, scratch_root: Path | None = None,
                   on_test=None, nb: dict | None = None) -> NotebookResult:
    """Grade one submitted notebook against the trusted source assignment.

    ``nb`` is the submission already read by :func:`read_or_fail`; without it the
    file at ``path`` is read here.
    """
    started = time.monotonic()
    if nb is None:
        nb, failure = read_or_fail(source, path)
        if failure is not None:
            return failure
    result = NotebookResult(source.assignment_id, source.notebook_name, "graded", 0.0,
                            source.max_score)
    steps, problems = plan_submission(source, nb)
    result.problems += problems
    results: dict[str, TestResult] = {}
    notebook_deadline = started + limits.notebook_seconds
    with tempfile.TemporaryDirectory(prefix="grade-", dir=scratch_root) as scratch:
        process = StudentProcess(Path(scratch), limits, sandbox)
        clock = Clock(limits.cell_seconds)
        namespace = {"__name__": "__main__"}
        # The checker's namespace: the course's own given code, then the proxies.
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for grade_id, code in source.given.items():
                exec(compile(code, f"<given {grade_id}>", "exec"), namespace)
        absent = missing_solutions(source, nb)
        for name in source.exercise_names:
            namespace[name] = (MissingAnswer(name) if name in absent
                               else StudentFunction(process, name, clock))
        timings = result.timings
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
                    result.problems.append("grading stopped early: the notebook ran longer "
                                           f"than {limits.notebook_seconds:g} s in all")
                    break
                cell_time = min(limits.cell_seconds, left)
                try:
                    if kind == "test":
                        test = source.tests[payload]
                        clock.seconds = cell_time
                        outcome = run_test(test, namespace, clock, hidden=hidden)
                        results[payload] = outcome
                        timings["tests"] = timings.get("tests", 0.0) + time.monotonic() - mark
                        if on_test:
                            on_test(outcome)
                    else:
                        code = source.given[payload] if kind == "given" else payload
                        if not code.strip():
                            continue
                        done = process.exec_cell(code, cell_time)
                        timings["notebook_code"] = (timings.get("notebook_code", 0.0)
                                                    + time.monotonic() - mark)
                        if index is not None and (done.stdout or done.error):
                            result.cell_outputs[index] = {"stdout": _cap(done.stdout),
                                                          "error": _cap(done.error)}
                except GradingLimit as exc:
                    result.problems.append(f"grading stopped early: {exc}")
                    if kind == "test":
                        results[payload] = TestResult(
                            payload, source.tests[payload].description,
                            source.tests[payload].points, 0.0, False, f"stopped: {exc}")
                    elif index is not None:
                        result.cell_outputs[index] = {"stdout": "", "error": f"Stopped: {exc}"}
                    break
        finally:
            process.close()

    if process.scratch_filled:
        result.problems.append(f"the code wrote more than {limits.scratch_mb} MB into its scratch "
                               "folder, the limit: writing more failed")
    for grade_id, test in source.tests.items():
        if grade_id not in results:
            if process.dead_reason:
                reason = f"not run: {process.dead_reason}"
            else:
                reason = "not run: this test cell is missing from the notebook"
            results[grade_id] = TestResult(grade_id, test.description, test.points, 0.0,
                                           False, reason)
    result.tests = [results[g] for g in source.tests]
    result.score = float(sum(t.score for t in result.tests))
    result.seconds = time.monotonic() - started
    return result


def autograded_notebook(source: Assignment, nb: dict, result: NotebookResult) -> dict:
    """The submission (as read by :func:`read_or_fail`) as nbgrader's feedback template
    expects it: test cells restored from the source (hidden tests removed), with
    scores and outputs."""
    by_id = {t.grade_id: t for t in result.tests}
    placed = set()
    cells = []
    for index, cell in enumerate(nb["cells"]):
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if cell["cell_type"] == "code" and grade_id in source.tests:
            if grade_id in placed:
                continue
            placed.add(grade_id)
            cells.append(_test_cell(source, by_id[grade_id]))
            continue
        new = {"cell_type": cell["cell_type"], "metadata": {}, "source": cell["source"]}
        if grade_id in source.solutions and meta.get("solution"):
            new["metadata"]["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                           "grade_id": grade_id, "schema_version": 3}
        if cell["cell_type"] == "code":
            new.update(execution_count=None, outputs=_outputs(result.cell_outputs.get(index)))
        cells.append(new)
    for grade_id in source.tests:
        if grade_id not in placed:
            cells.append(_test_cell(source, by_id[grade_id]))
    # The submission's own notebook metadata is not trusted, so it is not copied.
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                               "language": "python"},
                "language_info": {"name": "python"}}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 4}


def _outputs(out: dict | None) -> list:
    if not out:
        return []
    outputs = []
    if out.get("stdout"):
        outputs.append({"output_type": "stream", "name": "stdout", "text": out["stdout"]})
    if out.get("error"):
        outputs.append({"output_type": "stream", "name": "stderr", "text": out["error"]})
    return outputs


def _test_cell(source: Assignment, test: TestResult) -> dict:
    code = source.tests[test.grade_id].visible_code
    if test.passed:
        outputs = [{"output_type": "stream", "name": "stdout",
                    "text": (test.output or "") + f"Passed: {test.points:g} of {test.points:g} "
                                                  "points.\n"}]
    else:
        outputs = [{"output_type": "stream", "name": "stderr",
                    "text": (test.output or "") + f"Failed (0 of {test.points:g} points): "
                                                  f"{test.message}\n"}]
    return {"cell_type": "code", "execution_count": None, "source": code, "outputs": outputs,
            "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True,
                                      "grade_id": test.grade_id, "points": test.points,
                                      "score": test.score, "schema_version": 3}}}
