"""The student kit: what it holds, that it leaks nothing, and that it works in a fresh
virtual environment outside the repository, as a student installs it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import course_dir, kit

from conftest import (
    CHAPTERS,
    FORBIDDEN,
    ROOT,
    make_submission,
    normalised,
    run_cli,
    snippets,
    solution_lines,
    write_notebook,
)

AID = "01-definition"
NAME = "01-definition.ipynb"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit")
    done = run_cli("kit", "--out", out, timeout=300)
    assert done.returncode == 0, done.stderr
    return out / kit.wheel_name(), out / kit.ZIP_NAME


def _members(wheel: Path, archive: Path) -> dict[str, bytes]:
    """Every file of the kit, the wheel inside the zip included."""
    members = {}
    for path in (wheel, archive):
        with zipfile.ZipFile(path) as zz:
            for name in zz.namelist():
                members[f"{path.name}:{name}"] = data = zz.read(name)
                if name.endswith(".whl"):
                    with zipfile.ZipFile(io.BytesIO(data)) as inner:
                        members.update({f"{name}:{n}": inner.read(n) for n in inner.namelist()})
    return members


def test_wheel_holds_the_check_and_the_helpers_only(built):
    wheel, archive = built
    with zipfile.ZipFile(wheel) as zz:
        names = set(zz.namelist())
        meta = zz.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry = zz.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    files = {n for n in names if ".dist-info/" not in n}
    assert files == kit.expected_wheel_files()
    for private in course_dir.INSTRUCTOR_ONLY + (
        "autograder/grade.py",
        "autograder/kit.py",
        "autograder/release.py",
    ):
        assert private not in files
    assert "softmax-check = autograder.cli:check_main" in entry
    # In the repository the released notebooks are notebooks/; only the wheel has its own.
    assert not course_dir.KIT_NOTEBOOKS.exists() and course_dir.RELEASED == ROOT / "notebooks"
    assert "Requires-Python: >=3.11" in meta
    with zipfile.ZipFile(archive) as zz:
        assert sorted(zz.namelist()) == sorted(
            [f"{kit.FOLDER}/README.md", f"{kit.FOLDER}/{wheel.name}"]
            + [
                f"{kit.FOLDER}/{course_dir.notebook_path(a, course_dir.RELEASED).name}"
                for a in CHAPTERS
            ]
        )
        for aid in CHAPTERS:
            released = course_dir.notebook_path(aid, course_dir.RELEASED)
            assert zz.read(f"{kit.FOLDER}/{released.name}") == released.read_bytes()


def test_kit_holds_no_solution_hidden_test_or_reference_line(built):
    """The 3-line leak test of the released notebooks, over every file of the kit, plus
    the lines of every course module that is not a student helper."""
    secrets = set().union(*(solution_lines(aid) for aid in CHAPTERS))
    # Every course module students do not get: the reference solutions, the explorers and
    # any other build-time code (course_dir.INSTRUCTOR_ONLY names the two that solve exercises).
    private = {p.relative_to(ROOT).as_posix() for p in (ROOT / "course").rglob("*.py")}
    private -= set(course_dir.STUDENT_HELPERS)
    assert set(course_dir.INSTRUCTOR_ONLY) <= private
    for path in sorted(private):
        code = (ROOT / path).read_text(encoding="utf-8")
        secrets |= {s for s in snippets(code.splitlines()) if "import" not in s}
    assert len(secrets) > 100
    members = _members(*built)
    assert len(members) > 40
    for name, data in members.items():
        text = data.decode("utf-8", errors="replace")
        if not name.endswith(".py"):  # the checker's code names the markers to strip them
            for marker in FORBIDDEN:
                assert marker not in text, (name, marker)
        text = normalised(text)
        leaked = [s for s in secrets if s in text]
        assert not leaked, (name, leaked[:3])


def test_a_leaky_kit_is_refused(built, tmp_path):
    wheel, archive = built
    bad = tmp_path / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
        dst.writestr("course/reference.py", "print('answers')\n")
    with pytest.raises(kit.KitError, match="course/reference.py"):
        kit.verify(bad, archive)


def test_unsupported_python_gets_one_sentence(monkeypatch, capsys):
    from autograder import cli

    monkeypatch.setattr(sys, "version_info", (3, 9, 18, "final", 0))
    assert cli.check_main([NAME]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs Python 3.11 or newer, and this is Python 3.9" in err


def _kernel_spec(folder: Path, python: Path) -> Path:
    spec = folder / "kernels" / "kit-env"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "the kit's environment",
                "language": "python",
            }
        )
    )
    return folder


@pytest.mark.slow
def test_kit_works_in_a_fresh_environment_outside_the_repository(built, tmp_path):
    """Unzip, python -m venv, pip install the wheel (plain pip, dependencies from the
    index), then softmax-check and a Jupyter kernel of that environment."""
    wheel, archive = built
    home = tmp_path / "student"
    home.mkdir()
    assert ROOT not in home.parents
    with zipfile.ZipFile(archive) as zz:
        zz.extractall(home)
    work = home / kit.FOLDER
    venv = work / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", wheel.name, "ipykernel"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    def student(*args, cwd=work):
        return subprocess.run(
            [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )

    # The stub fails with clear messages, exactly as `python -m autograder check` says.
    stub = student(venv / "bin" / "softmax-check", NAME)
    assert stub.returncode == 1, stub.stderr
    assert "0 of 7 visible tests passed: 0 of 10 points" in stub.stdout
    assert stub.stdout.count("FAIL  test_") == 7 and "NotImplementedError" in stub.stdout
    assert "Traceback" not in stub.stdout + stub.stderr
    same = student(python, "-m", "autograder", "check", NAME)
    repo = subprocess.run(
        [sys.executable, "-m", "autograder", "check", NAME],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (stub.returncode, stub.stdout, stub.stderr) == (
        same.returncode,
        same.stdout,
        same.stderr,
    )
    assert (stub.returncode, stub.stdout) == (repo.returncode, repo.stdout)

    # A correct notebook passes with exit status 0.
    write_notebook(make_submission(AID), work / "solved" / NAME)
    solved = student(venv / "bin" / "softmax-check", Path("solved") / NAME)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "7 of 7 visible tests passed: 10 of 10 points" in solved.stdout

    # ... and runs top to bottom in a Jupyter kernel of that environment.
    import nbclient
    import nbformat

    nb = nbformat.read(work / "solved" / NAME, as_version=4)
    os.environ["JUPYTER_PATH"] = str(_kernel_spec(tmp_path / "jupyter", python))
    try:
        nbclient.NotebookClient(
            nb, kernel_name="kit-env", timeout=300, resources={"metadata": {"path": str(work)}}
        ).execute()
    finally:
        del os.environ["JUPYTER_PATH"]
    assert not [
        o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]

    # Bad input: one clear sentence each, never a traceback.
    missing = student(venv / "bin" / "softmax-check", NAME, cwd=home)
    assert missing.returncode == 2
    hint = missing.stderr.strip()
    assert hint.startswith(f"check: {NAME}: no such file; did you mean ") and "\n" not in hint
    assert f" {kit.FOLDER}/{NAME}?" in hint or f" {kit.FOLDER}/{NAME} or" in hint, hint
    other = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": "print(1)",
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    write_notebook(other, work / "homework.ipynb")
    foreign = student(venv / "bin" / "softmax-check", "homework.ipynb")
    assert foreign.returncode == 2
    assert foreign.stderr.strip() == (
        "check: homework.ipynb: it does not look like any of the course's exercise notebooks"
    )
    grade = student(python, "-m", "autograder", "grade", ".", "--out", "x")
    assert grade.returncode == 2 and grade.stderr.count("\n") == 1
    assert "instructor's command and not part of the student kit" in grade.stderr
    assert not (work / "x").exists()


@pytest.mark.slow
def test_setup_cell_says_what_to_install_when_the_kit_is_missing(tmp_path):
    """In a Python without the kit, every notebook's first code cell says, in one
    sentence, what to install."""
    bare = tmp_path / "bare"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=300
    )
    for aid in CHAPTERS:
        nb = json.loads(course_dir.notebook_path(aid, course_dir.RELEASED).read_text())
        setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
        done = subprocess.run(
            [str(bare / "bin" / "python"), "-c", "".join(setup["source"])],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("ModuleNotFoundError: This notebook needs the softmax course kit"), (
            aid,
            last,
        )
        assert "pip install softmax_course_kit-*.whl" in last and "Get the exercises" in last


def test_the_front_door_says_the_same_everywhere():
    """README, the site's intro and "Get the exercises" page, the kit's README and every
    notebook give the same download, install and self-check commands."""
    install = f".venv/bin/pip install {kit.wheel_name()} jupyterlab"
    places = {
        "README.md": (ROOT / "README.md").read_text(encoding="utf-8"),
        "book/intro.md": (ROOT / "book" / "intro.md").read_text(encoding="utf-8"),
        "book/get-the-exercises.md": (ROOT / "book" / "get-the-exercises.md").read_text(
            encoding="utf-8"
        ),
        "the kit's README": kit.readme(),
    }
    for where, text in places.items():
        flat = " ".join(text.split())
        for words in (
            "python3 -m venv .venv",
            install,
            f".venv/bin/{kit.COMMAND} ",
            "without renaming it",
            "hidden tests",
        ):
            assert words in flat, (where, words)
        assert kit.ZIP_NAME in flat or where == "the kit's README", where
    assert "get-the-exercises" in places["book/intro.md"]
    # the number of notebooks, where a page says it in words, is the number of chapters
    words = "one two three four five six seven eight nine ten eleven twelve".split()
    for where, text in places.items():
        for said in re.findall(r"\b(\w+) (?:exercise )?notebooks\b", " ".join(text.split())):
            if said.lower() in words:
                assert words.index(said.lower()) + 1 == len(CHAPTERS), (where, said)
    page = places["book/get-the-exercises.md"]
    for heading in ("Download", "Install", "Where to work", "Self-check", "Hand in"):
        assert re.search(rf"^## \d\. {heading}$", page, re.MULTILINE), heading
    assert (
        f"<../_build/kit/{kit.ZIP_NAME}>" in page and f"<../_build/kit/{kit.wheel_name()}>" in page
    )
    for aid in CHAPTERS:  # each chapter's Exercises section gives the kit's command
        chapter = (ROOT / "book" / f"{aid}.md").read_text(encoding="utf-8")
        name = course_dir.notebook_path(aid, course_dir.RELEASED).name
        assert f".venv/bin/{kit.COMMAND} {name}" in chapter, aid
        assert "python -m autograder check" not in chapter, aid
        assert "(get-the-exercises.md)" in chapter, aid
    for aid in CHAPTERS:
        for folder in (course_dir.SOLUTIONS, course_dir.RELEASED):
            nb = json.loads(course_dir.notebook_path(aid, folder).read_text(encoding="utf-8"))
            intro = "".join(nb["cells"][0]["source"])
            name = course_dir.notebook_path(aid, folder).name
            assert f"{kit.COMMAND} {name}" in intro and "without renaming it" in intro
            assert "Get the exercises" in intro and "course folder" not in intro


def test_the_kit_and_the_sandbox_hold_every_module_their_code_imports():
    """CHECK_FILES and WORKER_FILES are closed under the package's own imports, so the
    kit's check and the sandboxed worker never miss a module that a merge added. (The
    CLI's instructor commands are imported only when asked for, and refused in the kit.)"""
    import ast

    instructor = {
        "autograder/release.py",
        "autograder/grade.py",
        "autograder/kit.py",
        "autograder/lms.py",
        "autograder/report.py",
    }
    for files in (course_dir.CHECK_FILES, course_dir.WORKER_FILES):
        for rel in files:
            tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom):
                    continue
                if not (node.level or (node.module or "").startswith("autograder")):
                    continue
                module = (node.module or "").removeprefix("autograder").lstrip(".")
                for name in [module] if module else [a.name for a in node.names]:
                    path = f"autograder/{name.split('.')[0]}.py"
                    if not (ROOT / path).is_file():
                        continue
                    if rel == "autograder/cli.py" and path in instructor:
                        continue
                    assert path in files, f"{rel} imports {path}, which is not in the list"
