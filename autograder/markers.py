"""nbgrader's markers (BEGIN/END SOLUTION, BEGIN/END HIDDEN TESTS): the one parser of them.

A line is a marker when it contains the marker's text, as nbgrader reads it
(``ClearSolutions`` and ``ClearHiddenTests`` test ``delimiter in line``). Regions
must be balanced and not nested; anything else is refused with a :class:`MarkerError`
that names the notebook and the cell, before nbgrader (release) or the checker
(grading) would silently read the cell some other way.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Marker texts by region kind: (begin, end).
MARKERS = {
    "solution": ("BEGIN SOLUTION", "END SOLUTION"),
    "hidden": ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
}
#: Every marker text, which a released notebook must never contain.
ALL_MARKERS = tuple(text for pair in MARKERS.values() for text in pair)


class MarkerError(ValueError):
    """Unbalanced or nested nbgrader markers; the message names the notebook and cell."""


@dataclass(frozen=True)
class Region:
    """One marked region of a cell: lines ``begin`` to ``end`` (1-based, markers included)."""

    kind: str
    begin: int
    end: int


def _marker(line: str) -> tuple[str, bool] | None:
    """(kind, is_begin) of the marker on ``line``, or None."""
    for kind, (begin, end) in MARKERS.items():
        if begin in line:
            return kind, True
        if end in line:
            return kind, False
    return None


def regions(code: str, where: str = "a cell") -> list[Region]:
    """The marked regions of one cell's code.

    Args:
        code: The cell's source.
        where: What the cell is, for the error message (e.g. "solutions/01/x.ipynb, cell 4").

    Returns:
        The regions in order.

    Raises:
        MarkerError: A marker without its partner, or one region inside another.
    """
    found: list[Region] = []
    open_kind, open_line = None, 0
    for number, line in enumerate(code.splitlines(), start=1):
        marker = _marker(line)
        if marker is None:
            continue
        kind, is_begin = marker
        begin, end = MARKERS[kind]
        if is_begin:
            if open_kind is not None:
                raise MarkerError(
                    f"{where}: line {number} has '{begin}' inside the "
                    f"'{MARKERS[open_kind][0]}' region opened at line "
                    f"{open_line}; close that region first"
                )
            open_kind, open_line = kind, number
        else:
            if open_kind != kind:
                raise MarkerError(
                    f"{where}: line {number} has '{end}' without a '{begin}' before it"
                )
            found.append(Region(kind, open_line, number))
            open_kind = None
    if open_kind is not None:
        raise MarkerError(
            f"{where}: the '{MARKERS[open_kind][0]}' at line {open_line} "
            f"has no '{MARKERS[open_kind][1]}' after it"
        )
    return found


def hidden_line_numbers(code: str, where: str = "a cell") -> set[int]:
    """1-based numbers of the lines of ``code`` that belong to hidden tests (markers too).

    Args:
        code: the cell's source.
        where: what the cell is, for the error message.

    Raises:
        MarkerError: if the markers are unbalanced (see :func:`regions`).
    """
    return {
        n for r in regions(code, where) if r.kind == "hidden" for n in range(r.begin, r.end + 1)
    }


def strip_hidden_tests(code: str, where: str = "a cell") -> str:
    """``code`` without its hidden tests, as students may see it.

    Args:
        code: the cell's source.
        where: what the cell is, for the error message.

    Raises:
        MarkerError: if the markers are unbalanced (see :func:`regions`).
    """
    hidden = hidden_line_numbers(code, where)
    kept = [
        line for number, line in enumerate(code.splitlines(True), start=1) if number not in hidden
    ]
    return "".join(kept).rstrip() + "\n"


def check_notebook(nb: dict, name: str) -> None:
    """Refuse a notebook with unbalanced or nested markers in any code cell.

    Args:
        nb: The notebook as a dict (``nbformat`` node or plain JSON).
        name: What to call the notebook in the message (its path).

    Raises:
        MarkerError: Naming the notebook, the cell (number and grade id) and the line.
    """
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        label = f"{name}, cell {index + 1}" + (f" ('{grade_id}')" if grade_id else "")
        regions(source, label)
