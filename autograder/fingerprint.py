"""What a grade depends on, as one hash: saved results are reused only when it matches.

A saved result is keyed by (see ``grade.result_key``) this fingerprint of the
grading code, the limits, whether the sandbox was on, the assignment's source
notebook, the submission's bytes and name, and its lateness. The code part covers

* every module of the ``autograder`` package (the grader, the sandbox, the worker) and
  its feedback templates,
* every ``course`` module that the assignments' given and test cells import,
  followed through the imports of those modules, and the data files in ``course/data``,
* the versions of Python and of the libraries that run the tests and render feedback.

Changing any of these regrades every submission it can affect; ``grade --force``
regrades everything regardless.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from importlib import metadata
from pathlib import Path

from . import course_dir

#: Libraries whose versions are part of the fingerprint: they run the tests (numpy, scipy),
#: read notebooks (nbformat) and render and sanitise feedback (nbgrader, nbconvert,
#: jinja2, nh3).
_LIBRARIES = ("numpy", "scipy", "nbgrader", "nbconvert", "nbformat", "jinja2", "nh3")


def _imported_modules(
    code: str, package: str, current: str | None = None, is_package: bool = False
) -> set[str]:
    """Dotted names of ``package`` modules that ``code`` imports (absolute and relative).

    ``current`` is the dotted name of the module the code belongs to (for relative imports).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue
                parts = current.split(".") if is_package else current.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                module = ".".join(parts + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != package:
                continue
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)  # `from course import checks`
    return found


def _module_file(name: str, root: Path) -> Path | None:
    parts = name.split(".")
    base = root.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def course_files(codes, root: Path = course_dir.ROOT) -> list[Path]:
    """The ``course`` modules the given code imports, transitively, plus course/data.

    Args:
        codes: The cells' code to follow the imports of.
        root: The course root holding ``course/``.

    Returns:
        The files, sorted.
    """
    todo = set()
    for code in codes:
        todo |= _imported_modules(code, "course")
    if todo:
        todo.add("course")  # importing course.x runs course/__init__.py
    seen: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name, root)
        if path is None:
            continue  # a name imported from a module, not a module
        seen[name] = path
        todo |= _imported_modules(
            path.read_text(encoding="utf-8"), "course", name, path.name == "__init__.py"
        )
    files = set(seen.values())
    data = root / "course" / "data"
    if seen and data.is_dir():
        files |= {p for p in data.rglob("*") if p.is_file()}
    return sorted(files)


def grader_fingerprint(assignments: dict, root: Path = course_dir.ROOT) -> str:
    """A hash of the grading code and the libraries: see the module docstring.

    Args:
        assignments: {assignment id: Assignment}; their given and test cells decide which
            ``course`` modules count.
        root: The course root holding ``autograder/`` and ``course/``.

    Returns:
        The hash, in hex.
    """
    codes = []
    for assignment in assignments.values():
        codes += list(assignment.given.values()) + [t.code for t in assignment.tests.values()]
    # Only code and templates: the package folder may also hold runtime data (gradebook).
    package = root / "autograder"
    files = sorted(
        [*package.glob("*.py"), *(p for p in (package / "templates").rglob("*") if p.is_file())]
    )
    digest = hashlib.sha256()
    for path in files + course_files(codes, root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(sys.version.encode())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()
