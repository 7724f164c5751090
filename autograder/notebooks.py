"""Reading notebooks: the trusted source of an assignment, and untrusted submissions.

An *assignment* is read from a notebook we wrote (``solutions/`` for grading,
``notebooks/`` for a student's self-check). Its cells are classified by their
nbgrader metadata:

* ``given``    - read-only code the course provides (imports, helpers),
* ``solution`` - the cells students write (their grade_id names the exercise),
* ``test``     - autograder tests with points; hidden tests sit between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.

A *submission* is whatever a student handed in. Nothing in it is trusted: test
cells and points always come from the assignment.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .limits import DEFAULTS
from .markers import check_notebook, hidden_line_numbers, strip_hidden_tests
from .safety import NotARegularFile, clean_text, read_regular_file, shown

#: Largest submission file accepted, in bytes, by callers without a Limits of their own.
MAX_NOTEBOOK_BYTES = DEFAULTS.notebook_bytes


class BadNotebook(Exception):
    """A notebook that cannot be read; the message says why, for a person."""


@dataclass
class GradedCell:
    grade_id: str
    code: str
    points: float
    #: First line of the test's docstring: what it checks.
    description: str

    @property
    def visible_code(self) -> str:
        """The code with hidden tests removed, as students may see it."""
        return strip_hidden_tests(self.code)

    def hidden_line_numbers(self) -> set[int]:
        """1-based numbers of the lines that belong to hidden tests."""
        return hidden_line_numbers(self.code, f"test cell '{self.grade_id}'")


@dataclass
class Assignment:
    """The trusted description of one exercise notebook."""

    assignment_id: str
    notebook_name: str
    path: Path
    #: (kind, grade_id, code) for every code cell in order; kind is given/solution/test/other.
    code_cells: list[tuple[str, str | None, str]] = field(default_factory=list)
    tests: dict[str, GradedCell] = field(default_factory=dict)
    given: dict[str, str] = field(default_factory=dict)
    solutions: dict[str, str] = field(default_factory=dict)
    #: Names the solution cells define: the functions students write.
    exercise_names: list[str] = field(default_factory=list)

    @property
    def max_score(self) -> float:
        return float(sum(t.points for t in self.tests.values()))


def nbgrader_meta(cell) -> dict:
    """A cell's ``metadata.nbgrader`` entry.

    Args:
        cell: A notebook cell (a dict).

    Returns:
        The entry, or ``{}`` when it has none (or it is not a dict).
    """
    meta = cell.get("metadata", {})
    value = meta.get("nbgrader") if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else {}


def _docstring_line(code: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(code))
    except SyntaxError:
        doc = None
    return doc.strip().splitlines()[0] if doc else ""


def defined_names(code: str) -> list[str]:
    """Top-level functions and classes a cell defines.

    Args:
        code: The cell's code.

    Returns:
        Their names, in order ([] when it does not parse).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return names


_DEF_LINE = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)", re.MULTILINE)


def bound_names(code: str) -> list[str]:
    """Names a cell binds at its top level.

    Functions, classes, assignments, imports (also inside top-level if/try/with blocks).

    Args:
        code: The cell's code.

    Returns:
        The names; for a cell that does not parse, those of the ``def`` and ``class``
        lines that start a line.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return _DEF_LINE.findall(code)
    names: list[str] = []

    def visit(body):
        """Add the names a block of statements binds.

        Args:
            body: The statements.
        """
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.extend((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(node, field, []) or [])
                for handler in getattr(node, "handlers", []) or []:
                    visit(handler.body)

    visit(tree.body)
    return names


def load_assignment(path: Path, assignment_id: str | None = None) -> Assignment:
    """Read a notebook of ours (solution or released) as an Assignment.

    Args:
        path: The notebook.
        assignment_id: Its assignment's id (its folder's name when None).

    Returns:
        The assignment.

    Raises:
        MarkerError: Its nbgrader markers are unbalanced or nested.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    check_notebook(nb, str(path))  # unbalanced markers: refused, naming the cell
    assignment = Assignment(assignment_id or path.parent.name, path.name, path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        grade_id = str(meta.get("grade_id") or "")
        if meta.get("grade") and not meta.get("solution"):
            kind = "test"
            assignment.tests[grade_id] = GradedCell(
                grade_id, cell.source, float(meta.get("points", 0)), _docstring_line(cell.source)
            )
        elif meta.get("solution"):
            kind = "solution"
            assignment.solutions[grade_id] = cell.source
            assignment.exercise_names += defined_names(cell.source)
        elif meta.get("locked") and grade_id:
            kind = "given"
            assignment.given[grade_id] = cell.source
        else:
            kind = "other"
        assignment.code_cells.append((kind, grade_id, cell.source))
    return assignment


def read_submission(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict:
    """Read an untrusted notebook file.

    Args:
        path: The notebook (a regular file; links are refused).
        max_bytes: The largest file read (``Limits.notebook_bytes``).

    Returns:
        The notebook as plain JSON data (validated enough to walk its cells).

    Raises:
        BadNotebook: Saying what is wrong with it.
    """
    path = Path(path)
    try:
        raw = read_regular_file(path, max_bytes)
    except NotARegularFile as exc:
        raise BadNotebook(str(exc)) from None
    if not raw:
        raise BadNotebook("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadNotebook("the file is not text (a notebook is UTF-8 JSON)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadNotebook(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise BadNotebook("the file nests lists or objects too deeply to be a notebook") from None
    if isinstance(data, dict) and (data.get("nbformat") in (1, 2, 3) or "worksheets" in data):
        raise BadNotebook(
            f"this is a notebook in the old format {data.get('nbformat', 3)!r} "
            "(IPython 3 or older); open it in Jupyter, save it (which converts it "
            "to format 4) and submit it again"
        )
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise BadNotebook("the file is JSON but not a Jupyter notebook (it has no list of cells)")
    if data.get("nbformat") != 4:
        raise BadNotebook(
            f"unsupported notebook format {shown(data.get('nbformat'), 40)} (expected 4)"
        )
    cells = []
    for index, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise BadNotebook(f"cell {index + 1} is not a notebook cell")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise BadNotebook(f"cell {index + 1} has no readable source")
        metadata = cell.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
        cells.append(
            {
                "cell_type": cell["cell_type"],
                "source": clean_text(source),
                "metadata": _plain_metadata(metadata),
            }
        )
    # Only the cells are used: the rest of the notebook's metadata is never trusted.
    return {
        "cells": cells,
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": data.get("nbformat_minor")
        if type(data.get("nbformat_minor")) is int
        else 4,
    }


def _plain_metadata(metadata: dict) -> dict:
    """A cell's metadata as the grader reads it.

    nbgrader's flat entries only (strings made UTF-8-safe); anything nested (perhaps very
    deeply) is dropped.
    """
    meta = metadata.get("nbgrader")
    if not isinstance(meta, dict):
        return {}
    kept = {}
    for key, value in meta.items():
        if value is None or type(value) in (bool, int, float):
            kept[clean_text(key)] = value
        elif type(value) is str:
            kept[clean_text(key)] = clean_text(value)
    return {"nbgrader": kept}
