"""Every public function of autograder/ and course/ has a docstring, and one that takes
parameters names each of them in a Google-style ``Args:`` section.

ruff's ``D`` rules (google convention) check the form of a docstring that is there; they
do not check that ``Args:`` lists every parameter. This test does, with ``ast`` only (no
import of the packages), so it stays fast.

Public means: a name without a leading underscore, at module level or in a public class
(magic methods are not public, nor are functions nested inside functions). A ``@property``
that takes nothing but ``self`` needs no ``Args:`` and is left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "course")

# An entry of an Args: section: `name:` or `name (type):`, stars optional for *args/**kwargs.
_ENTRY = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:")


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, ast.Attribute):
            names.add(target.attr)
    return names


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> list[str]:
    a = node.args
    positional = [arg.arg for arg in a.posonlyargs + a.args]
    if in_class and "staticmethod" not in _decorator_names(node) and positional:
        positional = positional[1:]  # self, or cls for a classmethod
    names = positional + [arg.arg for arg in a.kwonlyargs]
    if a.vararg:
        names.append(a.vararg.arg)
    if a.kwarg:
        names.append(a.kwarg.arg)
    return names


def _args_entries(doc: str) -> set[str] | None:
    """The names an ``Args:`` section lists, or None if there is no such section."""
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "Args:":
            continue
        header_indent = len(line) - len(line.lstrip())
        entries: set[str] = set()
        entry_indent = None
        for body in lines[i + 1 :]:
            if not body.strip():
                continue
            indent = len(body) - len(body.lstrip())
            if indent <= header_indent:
                break
            if entry_indent is None:
                entry_indent = indent
            if indent == entry_indent:
                match = _ENTRY.match(body.strip())
                if match:
                    entries.add(match.group(1))
        return entries
    return None


def _public_functions(tree: ast.Module):
    """(qualified name, node, in_class) for each public function or method."""

    def walk(body, prefix: str, in_class: bool):
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if not node.name.startswith("_"):
                    yield prefix + node.name, node, in_class
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                yield from walk(node.body, f"{prefix}{node.name}.", True)

    yield from walk(tree.body, "", False)


def docstring_problems(source: str, filename: str) -> list[str]:
    """Offenders in one module's source, as ``file:line function: missing ...``."""
    problems = []
    for name, node, in_class in _public_functions(ast.parse(source, filename)):
        params = _parameters(node, in_class)
        if "property" in _decorator_names(node) and not params:
            continue
        where = f"{filename}:{node.lineno} {name}"
        doc = ast.get_docstring(node)
        if not doc:
            problems.append(f"{where}: missing docstring")
            continue
        if not params:
            continue
        entries = _args_entries(doc)
        if entries is None:
            problems.append(f"{where}: missing Args: section ({', '.join(params)})")
            continue
        missing = [p for p in params if p not in entries]
        if missing:
            problems.append(f"{where}: missing Args: entries for {', '.join(missing)}")
    return problems


def test_every_public_function_documents_its_arguments():
    problems = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            problems += docstring_problems(path.read_text(encoding="utf-8"), rel)
    assert not problems, f"{len(problems)} docstring problem(s):\n" + "\n".join(problems)


def test_checker_reports_a_bad_docstring():
    source = '''
def good(a, *args, **kwargs):
    """Fine.

    Args:
        a (int): one.
        args: the rest.
        **kwargs: options.
    """

def bad(x, y):
    """Forgets y.

    Args:
        x: one.
            y: a continuation line, not an entry.
    """

def bare(z):
    """No section."""

def none():
    pass

class Thing:
    def method(self, k):
        """No section either."""

    @property
    def size(self):
        return 1

    @staticmethod
    def make(s):
        """Args: not a section header here."""

    def __eq__(self, other):
        return True

    def _private(self, q):
        pass

def outer(a):
    """Has its Args.

    Args:
        a: one.
    """
    def inner(b):
        pass

class _Hidden:
    def method(self, h):
        pass
'''
    assert docstring_problems(source, "m.py") == [
        "m.py:11 bad: missing Args: entries for y",
        "m.py:19 bare: missing Args: section (z)",
        "m.py:22 none: missing docstring",
        "m.py:26 Thing.method: missing Args: section (k)",
        "m.py:34 Thing.make: missing Args: section (s)",
    ]
