"""Feedback pages, rendered with nbgrader's own feedback template."""

from __future__ import annotations

import html
import os
from functools import lru_cache
from pathlib import Path

import nbformat

import nbgrader

_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
_OURS = Path(__file__).parent / "templates"
_BOOTSTRAP = (Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "static"
              / "node_modules" / "bootstrap" / "dist" / "css")


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
    return (f'<div class="alert {kind} late-submission" style="margin:1em"><b>Submission time'
            f'</b>: {html.escape(sentence)}</div>')


def render_feedback(notebook: dict, result, student_id: str, late=None) -> str:
    """HTML feedback for one graded notebook (hidden tests already removed).

    ``late`` (a :class:`autograder.late.Lateness`) adds when it was submitted and any
    late penalty, as nbgrader's own template shows it.
    """
    nb = nbformat.from_dict(notebook)
    resources = {"nbgrader": {"notebook": os.path.splitext(result.notebook)[0],
                              "assignment": result.assignment, "student": student_id,
                              "score": result.score, "max_score": result.max_score,
                              "late_penalty": late.penalty if late is not None else 0}}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    if result.problems:
        notes = "".join(f"<li>{html.escape(p)}</li>" for p in result.problems)
        banner = (f'<div class="alert alert-warning" style="margin:1em"><b>Notes from the '
                  f'grader</b><ul>{notes}</ul></div>')
        body = body.replace('<div class="container">', banner + '<div class="container">', 1)
    note = _late_note(late)
    if note:
        body = body.replace('<div class="container">', note + '<div class="container">', 1)
    return body


def render_failure(result, student_id: str, late=None) -> str:
    """A plain page for a submission that could not be graded at all."""
    items = "".join(f"<li>{html.escape(p)}</li>" for p in result.problems) or "<li>unknown</li>"
    tests = "".join(
        f"<tr><td><code>{html.escape(t.grade_id)}</code></td><td>{html.escape(t.description)}"
        f"</td><td>0 / {t.points:g}</td></tr>" for t in result.tests)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(result.notebook)}</title></head>
<body style="font-family: sans-serif; max-width: 50em; margin: 2em auto">
<h1>{html.escape(result.assignment)}: {html.escape(student_id)}</h1>
<p><b>Score: 0 / {result.max_score:g}.</b> This submission could not be graded:</p>
<ul>{items}</ul>
{_late_note(late)}
<table border="1" cellpadding="4"><tr><th>Test</th><th>Checks</th><th>Score</th></tr>
{tests}</table>
</body></html>
"""
