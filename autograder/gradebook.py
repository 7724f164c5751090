"""Recording grades in nbgrader's gradebook (SQLite).

So nbgrader's own tools (formgrader, ``nbgrader export``) see what ``grade`` decided.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .notebooks import Assignment

if TYPE_CHECKING:  # nbgrader is imported lazily: it is slow to import
    from nbgrader.api import Gradebook


class GradebookError(Exception):
    pass


class GradebookWriter:
    def __init__(self, db_path: Path, assignments: dict[str, Assignment]):
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.assignments = assignments
        self._gb: Gradebook | None = None
        self._synced: set[str] = set()

    def __enter__(self):
        from nbgrader.api import Gradebook

        logging.getLogger("alembic").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self._gb = Gradebook(
                    f"sqlite:///{self.db_path.resolve()}", course_id="softmax-course"
                )
            except Exception as exc:
                raise GradebookError(f"cannot open the gradebook {self.db_path}: {exc}") from None
        return self

    def __exit__(self, *exc):
        if self._gb is not None:
            self._gb.close()

    @property
    def _book(self) -> Gradebook:
        """The open gradebook (only inside the ``with`` block)."""
        if self._gb is None:
            raise GradebookError(f"the gradebook {self.db_path} is not open")
        return self._gb

    def _sync(self, assignment_id: str) -> None:
        """Make sure nbgrader knows the assignment's notebook and graded cells."""
        from nbgrader.api import MissingEntry

        if assignment_id in self._synced:
            return
        assignment = self.assignments[assignment_id]
        notebook_id = Path(assignment.notebook_name).stem
        try:
            notebook = self._book.find_notebook(notebook_id, assignment_id)
            known = {c.name for c in notebook.grade_cells}
        except MissingEntry:
            known = set()
        if known != set(assignment.tests):
            from .release import generate

            produced = generate(assignment_id, self.db_path)
            shutil.rmtree(produced.parent, ignore_errors=True)
        self._synced.add(assignment_id)

    def student_ids(self) -> set[str]:
        """The ids of every student the gradebook knows."""
        return {s.id for s in self._book.students}

    def add_students(self, students) -> None:
        """Make sure every roster student exists, with the names the roster gives.

        Args:
            students: The roster's students (``roster.Student``).
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for student in students:
                fields = {
                    k: getattr(student, k)
                    for k in ("first_name", "last_name", "email", "lms_user_id")
                    if getattr(student, k)
                }
                self._book.update_or_create_student(student.id, **fields)
            self._book.db.commit()

    def remove_students(self, student_ids) -> None:
        """Drop students and all their submissions.

        Args:
            student_ids: The ids of the students to drop.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for student_id in student_ids:
                self._book.remove_student(student_id)

    def set_due_dates(self, due: dict) -> None:
        """Every assignment known to nbgrader, with its due date (None when it has none).

        Args:
            due: {assignment id: due date}.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for assignment_id in self.assignments:
                self._sync(assignment_id)
                when = due.get(assignment_id)
                self._book.update_or_create_assignment(
                    assignment_id, duedate=when.replace(tzinfo=None) if when else None
                )
            self._book.db.commit()

    def remove_submission(self, student_id: str, assignment_id: str) -> None:
        """Forget a submission that no longer exists (its row is now "missing").

        Args:
            student_id: Whose submission it was.
            assignment_id: Which assignment's.
        """
        from nbgrader.api import MissingEntry

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self._book.remove_submission(assignment_id, student_id)
            except MissingEntry:
                pass

    def record(self, student_id: str, result, late=None) -> None:
        """Store a graded result.

        Args:
            student_id: Whose result it is.
            result: The :class:`~autograder.results.NotebookResult`.
            late: A :class:`autograder.late.Lateness`: sets the time and the penalty.
        """
        from nbgrader.api import MissingEntry

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy SAWarnings on new students
            self._sync(result.assignment)
            gb = self._book
            gb.update_or_create_student(student_id)
            try:
                submission = gb.find_submission(result.assignment, student_id)
            except MissingEntry:
                submission = gb.add_submission(result.assignment, student_id)
            timestamp = late.timestamp if late is not None else None
            submission.timestamp = timestamp.replace(tzinfo=None) if timestamp else None
            notebook_id = Path(result.notebook).stem
            for test in result.tests:
                grade = gb.find_grade(test.grade_id, notebook_id, result.assignment, student_id)
                grade.auto_score = test.score
                grade.needs_manual_grade = False
            notebook = gb.find_submission_notebook(notebook_id, result.assignment, student_id)
            notebook.late_submission_penalty = late.penalty if late is not None else 0.0
            gb.db.commit()
