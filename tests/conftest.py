"""Shared fixtures and helpers of the tests (no test module imports another).

Building submissions from the released notebooks, grading one in-process, searching text
for solution code, the book built once per session into a temporary folder, and a check
that the whole run leaves the checkout as it found it.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import course_dir
from autograder.markers import ALL_MARKERS, regions
from autograder.notebooks import load_assignment

ROOT = course_dir.ROOT
PYTHON = sys.executable
CHAPTERS = course_dir.assignment_ids()


def solution_body(code: str) -> str:
    """A solution cell's code with nbgrader's solution markers removed.

    Args:
        code: The cell's code, as the source notebook has it.

    Returns:
        The code with the BEGIN/END SOLUTION lines dropped (what they enclose is kept).
    """
    markers = {n for r in regions(code) if r.kind == "solution" for n in (r.begin, r.end)}
    return "".join(
        line for number, line in enumerate(code.splitlines(True), 1) if number not in markers
    )


def marked(code: str, kind: str) -> list[list[str]]:
    """The lines inside each region of ``kind`` ("solution" or "hidden"), markers excluded.

    Args:
        code: A cell's code.
        kind: The region kind, as :data:`autograder.markers.MARKERS` names it.

    Returns:
        One list of lines per region, in order.
    """
    lines = code.splitlines(True)
    return [lines[r.begin : r.end - 1] for r in regions(code) if r.kind == kind]


def unmarked(code: str, kind: str) -> str:
    """``code`` without its regions of ``kind``, markers included.

    Args:
        code: A cell's code.
        kind: The region kind, as :data:`autograder.markers.MARKERS` names it.

    Returns:
        The lines outside every such region.
    """
    inside = {n for r in regions(code) if r.kind == kind for n in range(r.begin, r.end + 1)}
    return "".join(
        line for number, line in enumerate(code.splitlines(True), 1) if number not in inside
    )


def make_submission(
    assignment_id: str, replacements: dict[str, str] | None = None, stub: bool = False
) -> dict:
    """The released notebook, as a student hands it in.

    Args:
        assignment_id: The assignment.
        replacements: {grade_id: code} for solution cells to fill with other code.
        stub: Leave the other solution cells as released (the stubs), not the reference.

    Returns:
        The notebook, as a dict.
    """
    released = course_dir.notebook_path(assignment_id, course_dir.RELEASED)
    assignment = load_assignment(course_dir.notebook_path(assignment_id), assignment_id)
    nb = json.loads(released.read_text(encoding="utf-8"))
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if replacements and grade_id in replacements:
            cell["source"] = replacements[grade_id]
        elif grade_id in assignment.solutions and not stub:
            cell["source"] = solution_body(assignment.solutions[grade_id])
    return nb


def write_notebook(nb: dict, path: Path) -> Path:
    """Write a notebook as JSON, making its folder.

    Args:
        nb: The notebook.
        path: Where it goes.

    Returns:
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def run_cli(*args, timeout=900, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m autograder ARGS`` and capture its output.

    Args:
        args: The command's arguments.
        timeout: Seconds it may take.
        cwd: Where it runs (the course root when None).
        kwargs: More arguments for :func:`subprocess.run`.

    Returns:
        The finished process.
    """
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = "ignore"
    return subprocess.run(
        [PYTHON, "-m", "autograder", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )


@pytest.fixture(scope="session")
def assignments():
    return {a: load_assignment(course_dir.notebook_path(a), a) for a in CHAPTERS}


def grade_in_process(assignments, tmp_path: Path, assignment_id: str, **kwargs):
    """Grade ``make_submission(assignment_id, **kwargs)`` directly (no sandbox, for speed).

    Args:
        assignments: The ``assignments`` fixture.
        tmp_path: Where the submission is written.
        assignment_id: The assignment.
        kwargs: For :func:`make_submission`.

    Returns:
        The notebook's result.
    """
    from autograder.checker import grade_notebook
    from autograder.sandbox import Limits

    nb = make_submission(assignment_id, **kwargs)
    path = write_notebook(nb, tmp_path / assignment_id / assignments[assignment_id].notebook_name)
    return grade_notebook(
        assignments[assignment_id],
        path,
        Limits(cell_seconds=60, notebook_seconds=300),
        sandbox=None,
    )


# ----------------------------------------------------------------------------- leaks

FORBIDDEN = ALL_MARKERS


def normalised(text: str) -> str:
    """Text as its stripped, non-blank lines (HTML tags removed), to search for code.

    Args:
        text: Code, or an HTML page.

    Returns:
        The lines that are not blank or comments, stripped, joined by newlines.
    """
    if "<html" in text[:1000].lower() or "</span>" in text:
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return "\n".join(
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    )


def snippets(lines: list[str]) -> set[str]:
    """Runs of three consecutive lines (a shorter region whole, if it is not trivial).

    Enough to recognise copied code, while two generic lines that the chapters teach in
    prose (``e = np.exp(z - z.max())`` ...) do not count as a leak.

    Args:
        lines: The lines of one marked region.

    Returns:
        The snippets, normalised.
    """
    lines = normalised("\n".join(lines)).splitlines()
    if len(lines) < 3:
        whole = "\n".join(lines)
        return {whole} if len(whole) >= 30 else set()
    return {"\n".join(lines[i : i + 3]) for i in range(len(lines) - 2)}


def solution_lines(assignment_id):
    """Snippets of reference code and hidden tests that students may not see.

    Runs of consecutive lines that appear nowhere in what students may see (given cells,
    visible tests, the stubs).

    Args:
        assignment_id: The assignment.

    Returns:
        The snippets (see :func:`snippets`).
    """
    path = course_dir.notebook_path(assignment_id)
    assignment = load_assignment(path, assignment_id)
    public = []  # computed from the source notebook, never from the released copy under test
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        code = "".join(cell["source"])
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in assignment.tests:
            code = assignment.tests[grade_id].visible_code
        elif grade_id in assignment.solutions:
            code = unmarked(code, "solution")
        public.append(normalised(code))
    public_text = "\n".join(public)
    secrets: set[str] = set()
    for code in assignment.solutions.values():
        for region in marked(code, "solution"):
            secrets |= snippets([line.rstrip("\n") for line in region])
    for test in assignment.tests.values():
        for region in marked(test.code, "hidden"):
            secrets |= snippets([line.rstrip("\n") for line in region])
    return {snippet for snippet in secrets if snippet not in public_text}


# ----------------------------------------------------------------------------- the book

#: What the book's build reads from the checkout. The chapters link the kit as
#: ``../_build/kit/...``, so the kit is built inside the staged copy, never into ROOT.
BOOK_SOURCES = ("_config.yml", "_toc.yml", "book", "notebooks")
BOOK_FLAGS = ("-W", "-n", "--keep-going")  # as `make book`: a warning is an error


@dataclass(frozen=True)
class BuiltBook:
    """The book built as `make book` builds it, in a session's temporary folder."""

    source: Path  #: the staged copy of the book's sources
    build: Path  #: jupyter-book's ``_build`` (html/, jupyter_execute/, .jupyter_cache)
    kit: Path  #: the student kit the site publishes

    @property
    def html(self) -> Path:
        return self.build / "html"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> BuiltBook:
    """The student kit, then the site, strictly: once per session, nothing in the checkout.

    The execution cache (``execute_notebooks: cache``) lives under the output path, so each
    session executes the chapters afresh.
    """
    stage = tmp_path_factory.mktemp("book")
    for name in BOOK_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, stage / name)
        else:
            shutil.copy2(ROOT / name, stage / name)
    (stage / ".cache").mkdir()
    (stage / ".cache" / "mathjax").symlink_to(course_dir.MATHJAX.parent)
    kit = stage / "_build" / "kit"
    done = run_cli("kit", "--out", kit, timeout=600)
    assert done.returncode == 0, done.stderr
    out = tmp_path_factory.mktemp("site")
    jb = Path(PYTHON).with_name("jupyter-book")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    done = subprocess.run(
        [str(jb), "build", str(stage), "--path-output", str(out), *BOOK_FLAGS],
        cwd=stage,
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    return BuiltBook(source=stage, build=out / "_build", kit=kit)


@pytest.fixture(scope="session")
def built_site(built_book) -> Path:
    """The built site's html folder."""
    return built_book.html


@pytest.fixture(scope="session")
def site(built_site) -> Path:
    """The built site's html folder (the name the site's tests use)."""
    return built_site


@pytest.fixture(scope="session")
def origin(site):
    """The built site, served over HTTP on a random local port."""
    from browsing import serve

    server, url = serve(site)
    yield url
    server.shutdown()
    server.server_close()


# ----------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (Playwright's ``Browser``).

    Every browser test opens its contexts here: Playwright's sync API runs one event loop
    per thread, so a second ``sync_playwright()`` inside the session would fail.
    """
    from browsing import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium "
            "(`make system-deps` installs it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def browser(chromium):
    """A desktop-sized browser context with a fresh profile, shared by the session."""
    from browsing import DESKTOP, TIMEOUT_MS

    context = chromium.new_context(viewport=DESKTOP, service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


# ----------------------------------------------------------------------------- slow tests

#: Fixtures that make every test using them slow (minutes: a book build, a browser, the
#: real `grade` command over a whole class: test_adversarial.py's ``corpus``).
SLOW_FIXTURES = {"built_book", "built_site", "site", "origin", "browser", "chromium", "corpus"}


#: Modules whose every test grades a notebook (the real command or the grading engine
#: in-process, 2-80 s a test on a loaded machine: `pytest --durations` of 2 Dec 2026).
SLOW_MODULES = {
    "test_exercises",
    "test_variants",
    "test_alternatives_07",
    "test_fairness",
    "test_grade_cli",
    "test_grade_output",
    "test_stock_nbgrader",
    "test_privacy",
    "test_term",
    "test_kit",
    "test_cluster",  # real grade runs and a LocalCluster: 3-50 s a test
}


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that grades, builds the book or drives a browser.

    ``make test-fast`` (``pytest -m "not slow"``) then runs the unit tests only.
    """
    for item in items:
        module = getattr(item, "module", None)
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or (
            module is not None and module.__name__ in SLOW_MODULES
        ):
            item.add_marker(pytest.mark.slow)


# ----------------------------------------------------------------------------- the checkout

#: What may appear in the checkout during a run: made by `make setup`, Python or pytest.
RUN_MADE = re.compile(r"(^|/)(\.venv|\.cache|\.pytest_cache|__pycache__|[^/]*\.egg-info)(/|$)")


_STATUS = pytest.StashKey[list[str]]()


def checkout_status() -> list[str]:
    """Every entry of ``git status --porcelain --ignored --untracked-files=all``, minus what
    setup and Python make, with each untracked or ignored file's size and modification time.

    Listing every file (not a collapsed ``_build/`` line) catches a file written into a
    folder that already exists and is ignored; the size and time catch one rewritten there.
    """
    done = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "--", "."]
        + [f":!{folder}" for folder in (".venv", ".cache", ".pytest_cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:  # not a git checkout (an unpacked copy): nothing to compare
        return []
    status = []
    for line in done.stdout.splitlines():
        if RUN_MADE.search(line[3:]):
            continue
        if line[:2] in ("??", "!!") and (ROOT / line[3:]).is_file():
            stat = (ROOT / line[3:]).stat()
            line += f"  ({stat.st_size} bytes, modified {stat.st_mtime_ns})"
        status.append(line)
    return sorted(status)


def pytest_sessionstart(session):
    session.config.stash[_STATUS] = checkout_status()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when the tests changed the checkout (a file written, changed or removed)."""
    before = session.config.stash.get(_STATUS, None)
    if before is None or getattr(session.config, "workerinput", None) is not None:
        return
    after = checkout_status()
    if after != before:
        changed = sorted(set(after) ^ set(before))
        session.config.get_terminal_writer().line(
            "The tests changed the checkout (git status --porcelain --ignored -uall):\n  "
            + "\n  ".join(changed[:40]),
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
