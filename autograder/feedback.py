"""Feedback pages, rendered with our own template, which extends nbgrader's.

The template is ``autograder/templates/feedback_local/index.html.j2``: it extends
nbgrader's feedback template, renders the grader's notes and the submission time itself,
and loads the course's local MathJax instead of a CDN's.

A page is inert: what the student wrote (markdown, outputs, names) is sanitised
(:func:`autograder.safety.sanitize_html`) or escaped, and a Content Security
Policy allows no script but the template's own. Rendering is bounded: at most
:data:`MAX_CELLS` cells and :data:`MAX_CHARS` characters of cell text are shown
(test cells always are), within :data:`MAX_SECONDS`; the page says what was cut.
"""

from __future__ import annotations

import html
import os
import re
import signal
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import nbformat
import nbgrader

from .limits import DEFAULTS, Limits
from .notebooks import Assignment, nbgrader_meta
from .results import CellResult, NotebookResult
from .safety import clean_text, csp_meta, sanitize_html

_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
_OURS = Path(__file__).parent / "templates"
_BOOTSTRAP = (
    Path(nbgrader.__file__).parent
    / "server_extensions"
    / "formgrader"
    / "static"
    / "node_modules"
    / "bootstrap"
    / "dist"
    / "css"
)

#: Bounds of one feedback page, for callers without a Limits of their own.
MAX_CELLS = DEFAULTS.feedback_cells
MAX_CHARS = DEFAULTS.feedback_chars
MAX_SECONDS = DEFAULTS.feedback_seconds


_REMOTE_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=[\"']?(?:https?:|//)[^>]*>"
    r"\s*</script\s*>",
    re.IGNORECASE,
)


class RenderTooSlow(Exception):
    pass


@lru_cache(maxsize=1)
def _exporter():
    from nbconvert.exporters import HTMLExporter
    from traitlets.config import Config

    config = Config()
    # Our template extends nbgrader's "feedback" one; its mathjax.html.j2, found first,
    # replaces nbconvert's CDN MathJax by the copy in the output folder.
    config.HTMLExporter.template_name = "feedback_local"
    config.HTMLExporter.extra_template_basedirs = [str(_OURS), str(_TEMPLATES)]
    config.HTMLExporter.extra_template_paths = [str(_BOOTSTRAP), str(_TEMPLATES)]
    return HTMLExporter(config=config)


def _late_note(late) -> str:
    sentence = late.sentence() if late is not None else ""
    if not sentence:
        return ""
    kind = "alert-danger" if late.penalty else "alert-info"
    return (
        f'<div class="alert {kind} late-submission" style="margin:1em"><b>Submission time'
        f"</b>: {html.escape(clean_text(sentence))}</div>"
    )


def _cell_chars(cell: dict) -> int:
    return len(cell.get("source", "")) + sum(
        len(o.get("text", "")) for o in cell.get("outputs", [])
    )


def bound_cells(
    cells: list[dict], max_cells: int = MAX_CELLS, max_chars: int = MAX_CHARS
) -> tuple[list[dict], str]:
    """The cells a page shows, and a note saying what was left out.

    Test cells (they carry the scores) are always kept; other cells are kept in
    order while both budgets last.

    Args:
        cells: The notebook's cells.
        max_cells: The most cells shown (``Limits.feedback_cells``).
        max_chars: The most characters of cell text shown (``Limits.feedback_chars``).

    Returns:
        (the cells to show, a note of what was cut or "" if nothing was).
    """
    kept: list[dict] = []
    dropped, used = 0, 0
    cut_at: int | None = None
    for cell in cells:
        is_test = bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade")) and not cell.get(
            "metadata", {}
        ).get("nbgrader", {}).get("solution")
        size = _cell_chars(cell)
        if is_test or (len(kept) < max_cells and used + size <= max_chars):
            kept.append(cell)
            used += size
        else:
            if cut_at is None:
                cut_at = len(kept)
            dropped += 1
    if not dropped:
        return kept, ""
    note = (
        f"This page shows {len(kept):,} of the notebook's {len(cells):,} cells: a "
        f"feedback page shows at most {max_cells:,} cells and {max_chars / 1e6:g} million "
        "characters; every test cell is shown."
    )
    kept.insert(
        len(kept) if cut_at is None else cut_at,
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": f"**[{dropped:,} cells not shown here.]** {note}",
        },
    )
    return kept, note


@contextmanager
def _time_bound(seconds: float):
    """Raise RenderTooSlow after ``seconds`` (main thread only; elsewhere unbounded)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def expire(signum, frame):
        """Signal handler: the render took too long.

        Args:
            signum: The signal (SIGALRM).
            frame: The interrupted frame.

        Raises:
            RenderTooSlow: Always.
        """
        raise RenderTooSlow()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _inert(page: str) -> str:
    """The rendered page with its body sanitised and a CSP in its trusted head."""
    start = page.find("<body")
    end = page.rfind("</body>")
    if start < 0 or end < start:
        return _plain_page("feedback", "<p>The page could not be rendered.</p>")
    head, inner = page[:start], page[page.index(">", start) + 1 : end]
    # A script from the network would be a connection (and someone else's code).
    head = _REMOTE_SCRIPT.sub("", head)
    meta = csp_meta(head)
    at = head.find("<meta charset")
    at = head.index(">", at) + 1 if at >= 0 else head.find("<head>") + len("<head>")
    head = head[:at] + "\n" + meta + head[at:]
    return f"{head}<body>\n{sanitize_html(inner)}\n</body>\n</html>\n"


def render_feedback(
    notebook: dict, result, student_id: str, late=None, limits: Limits = DEFAULTS
) -> str:
    """HTML feedback for one graded notebook (hidden tests already removed).

    Args:
        notebook: The autograded notebook (see :func:`autograded_notebook`).
        result: Its :class:`NotebookResult`; notes of what the page cut are added to it.
        student_id: Whose page it is.
        late: A :class:`autograder.late.Lateness`: adds when it was submitted and any
            late penalty, as nbgrader's own template shows it.
        limits: ``feedback_cells``, ``feedback_chars`` and ``feedback_seconds`` bound
            the page.

    Returns:
        The page's HTML.
    """
    cells, note = bound_cells(notebook["cells"], limits.feedback_cells, limits.feedback_chars)
    notebook = dict(notebook, cells=cells)
    if note:
        result.problems.append(note)  # the instructor's summary says so too
    problems = list(result.problems)
    nb = nbformat.from_dict(notebook)
    resources = {
        "nbgrader": {
            "notebook": html.escape(os.path.splitext(result.notebook)[0]),
            "assignment": html.escape(result.assignment),
            "student": html.escape(clean_text(student_id)),
            "score": result.score,
            "max_score": result.max_score,
            "late_penalty": late.penalty if late is not None else 0,
        },
        # Rendered (and escaped) by our template, templates/feedback_local.
        "autograder": {
            "problems": [clean_text(p) for p in problems],
            "late_sentence": clean_text(late.sentence()) if late else "",
            "late_penalty": late.penalty if late is not None else 0,
        },
    }
    try:
        with _time_bound(limits.feedback_seconds):
            body, _ = _exporter().from_notebook_node(nb, resources=resources)
            body = _inert(body)
    except RenderTooSlow:
        result.problems.append(
            f"the feedback page shows the scores only: the notebook took "
            f"longer than {limits.feedback_seconds:g} s to render"
        )
        return render_scores(result, student_id, result.problems, late)
    return body


def _plain_page(title: str, content: str) -> str:
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
{csp_meta("")}
<title>{html.escape(title)}</title></head>
<body style="font-family: sans-serif; max-width: 50em; margin: 2em auto">
{content}
</body></html>
"""


def _tests_table(result, scored: bool) -> str:
    rows = "".join(
        f"<tr><td><code>{html.escape(t.grade_id)}</code></td><td>{html.escape(t.description)}"
        f"</td><td>{(t.score if scored else 0):g} / {t.points:g}</td></tr>"
        for t in result.tests
    )
    return (
        f'<table border="1" cellpadding="4"><tr><th>Test</th><th>Checks</th>'
        f"<th>Score</th></tr>\n{rows}</table>"
    )


def render_scores(result, student_id: str, problems: list[str], late=None) -> str:
    """A plain page with the scores only (when the notebook cannot be shown).

    Args:
        result: The notebook's :class:`NotebookResult`.
        student_id: Whose page it is.
        problems: The notes to list on the page.
        late: A :class:`autograder.late.Lateness`, or None.

    Returns:
        The page's HTML.
    """
    items = "".join(f"<li>{html.escape(clean_text(p))}</li>" for p in problems)
    return _plain_page(
        result.notebook,
        f"""
<h1>{html.escape(result.assignment)}: {html.escape(clean_text(student_id))}</h1>
<p><b>Score: {result.score:g} / {result.max_score:g}.</b></p>
<ul>{items}</ul>
{_late_note(late)}
{_tests_table(result, scored=True)}""",
    )


def render_failure(result, student_id: str, late=None) -> str:
    """A plain page for a submission that could not be graded at all.

    Args:
        result: The failed :class:`NotebookResult` (its problems say why).
        student_id: Whose page it is.
        late: A :class:`autograder.late.Lateness`, or None.

    Returns:
        The page's HTML.
    """
    items = (
        "".join(f"<li>{html.escape(clean_text(p))}</li>" for p in result.problems)
        or "<li>unknown</li>"
    )
    return _plain_page(
        result.notebook,
        f"""
<h1>{html.escape(result.assignment)}: {html.escape(clean_text(student_id))}</h1>
<p><b>Score: 0 / {result.max_score:g}.</b> This submission could not be graded:</p>
<ul>{items}</ul>
{_late_note(late)}
{_tests_table(result, scored=False)}""",
    )


def autograded_notebook(assignment: Assignment, nb: dict, result: NotebookResult) -> dict:
    """The submission as nbgrader's feedback template expects it.

    Its test cells are restored from the source (hidden tests removed), with scores and
    outputs.

    Args:
        assignment: The trusted assignment the test cells come from.
        nb: The submission, as :func:`read_or_fail` read it.
        result: Its graded result.

    Returns:
        The notebook, as a dict, for :func:`render_feedback`.
    """
    by_id = {t.grade_id: t for t in result.tests}
    placed = set()
    cells = []
    for index, cell in enumerate(nb["cells"]):
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if cell["cell_type"] == "code" and grade_id in assignment.tests:
            if grade_id in placed:
                continue
            placed.add(grade_id)
            cells.append(_test_cell(assignment, by_id[grade_id]))
            continue
        new = {"cell_type": cell["cell_type"], "metadata": {}, "source": cell["source"]}
        if grade_id in assignment.solutions and meta.get("solution"):
            new["metadata"]["nbgrader"] = {
                "solution": True,
                "grade": False,
                "locked": False,
                "grade_id": grade_id,
                "schema_version": 3,
            }
        if cell["cell_type"] == "code":
            new.update(execution_count=None, outputs=_outputs(result.cell_outputs.get(index)))
        cells.append(new)
    for grade_id in assignment.tests:
        if grade_id not in placed:
            cells.append(_test_cell(assignment, by_id[grade_id]))
    # The submission's own notebook metadata is not trusted, so it is not copied.
    metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
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


def _test_cell(assignment: Assignment, test: CellResult) -> dict:
    code = assignment.tests[test.grade_id].visible_code
    if test.passed:
        outputs = [
            {
                "output_type": "stream",
                "name": "stdout",
                "text": (test.output or "") + f"Passed: {test.points:g} of {test.points:g} "
                "points.\n",
            }
        ]
    else:
        outputs = [
            {
                "output_type": "stream",
                "name": "stderr",
                "text": (test.output or "") + f"Failed (0 of {test.points:g} points): "
                f"{test.message}\n",
            }
        ]
    return {
        "cell_type": "code",
        "execution_count": None,
        "source": code,
        "outputs": outputs,
        "metadata": {
            "nbgrader": {
                "grade": True,
                "solution": False,
                "locked": True,
                "grade_id": test.grade_id,
                "points": test.points,
                "score": test.score,
                "schema_version": 3,
            }
        },
    }
