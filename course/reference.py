"""The reference solutions, read from the instructor notebooks in ``solutions/``.

Those notebooks are the one source of truth for every exercise function; this
module executes their given and solution cells so that the book (and the
tests) can call the same code::

    from course.reference import softmax, sigmoid

Only names defined by a chapter's given or solution cells are exported.
"""

from __future__ import annotations

import functools

from autograder import course_dir
from autograder.notebooks import defined_names, load_assignment


@functools.cache
def chapter(assignment_id: str) -> dict:
    """The namespace of one chapter's reference code (given cells + solutions).

    Args:
        assignment_id: the chapter's assignment, e.g. ``"01-definition"``.

    Returns:
        The dict its cells were executed in, read once per chapter.
    """
    source = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    namespace: dict = {"__name__": f"course.reference.{assignment_id}"}
    for kind, grade_id, code in source.code_cells:
        if kind in ("given", "solution"):
            exec(compile(code, f"<{assignment_id} {grade_id}>", "exec"), namespace)
    return namespace


@functools.cache
def _exports() -> dict[str, str]:
    """Name -> chapter that defines it, first chapter first."""
    names: dict[str, str] = {}
    for assignment_id in course_dir.assignment_ids():
        source = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
        for kind, _, code in source.code_cells:
            if kind in ("given", "solution"):
                for name in defined_names(code):
                    names.setdefault(name, assignment_id)
    return names


def __getattr__(name: str):
    chapters = _exports()
    if name not in chapters:
        raise AttributeError(f"no reference solution defines {name!r}")
    return chapter(chapters[name])[name]


def __dir__():
    return sorted(_exports())
