"""The result model: what grading one notebook found, test by test."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .limits import DEFAULTS
from .notebooks import Assignment

OUTPUT_CAP = DEFAULTS.test_output_chars


@dataclass
class CellResult:
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
    tests: list[CellResult] = field(default_factory=list)
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
        """The result as plain JSON data (the inverse of :meth:`from_dict`)."""
        return asdict(self)

    @classmethod
    def failed(cls, assignment: Assignment, reason: str, test_message: str) -> NotebookResult:
        """A submission that could not be graded: every test failed, with the reason.

        Args:
            assignment: the assignment the submission is for.
            reason: why it could not be graded (its one problem).
            test_message: the message of every test.
        """
        return cls(
            assignment.assignment_id,
            assignment.notebook_name,
            "failed",
            0.0,
            assignment.max_score,
            tests=[
                CellResult(t.grade_id, t.description, t.points, 0.0, False, test_message)
                for t in assignment.tests.values()
            ],
            problems=[reason],
        )

    @classmethod
    def from_dict(cls, data: dict) -> NotebookResult:
        """The result that :meth:`to_dict` gave ``data`` for.

        Args:
            data: a result as plain JSON data (cell output keys may be strings).
        """
        data = dict(data)
        data["tests"] = [CellResult(**t) for t in data.get("tests", [])]
        data["cell_outputs"] = {int(k): v for k, v in data.get("cell_outputs", {}).items()}
        return cls(**data)


def cap(text: str, limit: int = OUTPUT_CAP) -> str:
    """``text`` cut to ``limit`` characters, with a note of how much was cut.

    Args:
        text: what a test printed.
        limit: the most characters kept.
    """
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters not shown]\n"
