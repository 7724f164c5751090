"""What a grade depends on, as one hash: saved results are reused only when it matches.

A saved result is keyed by (see ``grade.result_key``) this fingerprint of the
grading code, the limits, whether the sandbox was on, the assignment's source
notebook, the submission's bytes and name, and its lateness. The code part covers

* every file of the ``autograder`` package (the grader, the sandbox, the worker,
  the feedback templates),
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

_LIBRARIES = ("numpy", "scipy", "nbgrader", "nbconvert", "nbformat")


def _imported_modules(code: str, package: str, current: str | None = None,
                      is_package: bool = False) -> set[str]:
    """Dotted names of ``package`` modules that ``code`` imports (absolute and relative).

    ``current`` is the dotted name of the module the code belongs to (for relative imports).
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue
                parts = current.split(".") if is_package else current.split(".")[:-1]
                parts = parts[:len(parts) - (node.level - 1)]
                module = ".".join(parts + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != package:
                continue
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)  # `from course import checks`
    return found


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    base = course_dir.ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def course_files(codes) -> list[Path]:
    """The ``course`` modules the given code imports, transitively, plus course/data."""
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
        path = _module_file(name)
        if path is None:
            continue  # a name imported from a module, not a module
        seen[name] = path
        todo |= _imported_modules(path.read_text(encoding="utf-8"), "course", name,
                                  path.name == "__init__.py")
    files = set(seen.values())
    data = course_dir.ROOT / "course" / "data"
    if seen and data.is_dir():
        files |= {p for p in data.rglob("*") if p.is_file()}
    return sorted(files)


def grader_fingerprint(sources: dict) -> str:
    """A hash of the grading code and the libraries: see the module docstring."""
    codes = []
    for source in sources.values():
        codes += list(source.given.values()) + [t.code for t in source.tests.values()]
    package = Path(__file__).resolve().parent
    files = sorted(p for p in package.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    digest = hashlib.sha256()
    for path in files + course_files(codes):
        digest.update(str(path.relative_to(course_dir.ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(sys.version.encode())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()
