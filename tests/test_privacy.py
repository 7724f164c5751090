"""Privacy by layout: a spy submission, graded the way the README tells instructors to,
finds nothing of other students or of the instructor.

The grading happens in a copy of the repository made in a temporary folder (the copy's
own package is the one imported), so the real checkout is never written to. A classmate
is graded first; then the spy, a correct submission with one extra cell that walks the
whole file system it can see and searches every file name and file for the classmate's
id, the classmate's notebook, the gradebook, the solutions and the hidden tests. It
prints everything it finds, and its softmax gives wrong answers (quoting its finds) if it
found anything, so a find would show in its feedback, its outputs and its score.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_submission, write_notebook

AID = "01-definition"
NAME = "01-definition.ipynb"
CLASSMATE = "classmate-q7x2k"
NEEDLES = {
    "a classmate's id": CLASSMATE,
    "a classmate's notebook": "notebook-of-classmate-9d41",
    "the solutions": "canary-in-a-solution-5be1",
    "the hidden tests": "canary-in-a-hidden-test-3c07",
}
#: The gradebook: an SQLite file that knows this course's assignments (the nbgrader
#: package installed in the environment holds a gradebook of its own tests).
SQLITE = "SQLite format 3\x00"

SPY = r"""
import os, stat
_NEEDLES = {kind: text[::-1].encode("latin-1") for kind, text in %(reversed)r.items()}
_NAMES = [_NEEDLES["a classmate's id"]]
_SQLITE, _OURS = %(sqlite)r.encode("latin-1"), %(aid)r[::-1].encode()
# The Debian system (/usr, 6 GB) is bound as it is on the host: the spy lists it, by name,
# and reads every other file it can reach in full.
_SYSTEM = ("/usr/", "/lib", "/bin", "/sbin")
_found, _files, _bytes = [], 0, 0
for _top, _dirs, _names in os.walk("/", onerror=lambda e: None):
    if _top in ("/proc", "/sys", "/dev"):
        _dirs[:] = []
        continue
    for _name in _names + _dirs:
        _path = os.path.join(_top, _name)
        for _needle in _NAMES:
            if _needle.decode("latin-1") in _path:
                _found.append(("name", _path))
        if _name in _dirs or _path.startswith(_SYSTEM):
            continue
        try:
            if not stat.S_ISREG(os.lstat(_path).st_mode):
                continue
            with open(_path, "rb") as _f:
                _data = _f.read(50_000_000)
        except OSError:
            continue
        _files += 1
        _bytes += len(_data)
        for _kind, _needle in _NEEDLES.items():
            _at = _data.find(_needle)
            if _at >= 0:
                _found.append((_kind, _path, _data[max(0, _at - 60):_at + 200]))
        if _data.startswith(_SQLITE) and _OURS in _data:
            _found.append(("the gradebook", _path, _data[:200]))
print("SPY-" f"READ {_files} files ({_bytes} bytes); found {len(_found)} things")
for _item in _found[:50]:
    print("SPY-" "FOUND", _item)
if _found:
    def softmax(z, axis=-1):
        raise ValueError("SPY-" "FOUND " + repr(_found[:20]))
"""


def _spy_submission() -> dict:
    nb = make_submission(AID)
    code = SPY % {
        "reversed": {k: v[::-1] for k, v in NEEDLES.items()},
        "sqlite": SQLITE,
        "aid": AID[::-1],
    }
    index = next(
        i
        for i, c in enumerate(nb["cells"])
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "softmax"
    )
    nb["cells"].insert(
        index + 1,
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": code,
        },
    )
    return nb


def _classmate_submission() -> dict:
    nb = make_submission(AID)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "softmax":
            cell["source"] += "\n# " + NEEDLES["a classmate's notebook"] + "\n"
    return nb


def _copy_repository(dest: Path) -> Path:
    """The working tree without environments, build output or runtime data."""
    runtime = {
        ".venv",
        ".git",
        "_build",
        ".cache",
        "artifacts",
        ".pytest_cache",
        "__pycache__",
        ".grading",
        "work",
        "submitted",
        "graded",
        "autograded",
        "feedback",
        "gradebook.db",
    }
    shutil.copytree(
        ROOT, dest, symlinks=True, ignore=lambda folder, names: [n for n in names if n in runtime]
    )
    # Canaries in the copy's solution cell and hidden tests (comments: grading is unchanged).
    path = dest / "solutions" / AID / NAME
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        text = text.replace(
            "### END SOLUTION", f"# {NEEDLES['the solutions']}\n    ### END SOLUTION", 1
        )
        text = text.replace(
            "### END HIDDEN TESTS", f"# {NEEDLES['the hidden tests']}\n### END HIDDEN TESTS", 1
        )
        cell["source"] = text
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return dest


def _grade(copy: Path, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            *map(str, args),
            "--workers",
            "1",
            "--timeout",
            "300",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _course_paths(copy: Path) -> dict:
    """The copy's own idea of where its gradebook and nbgrader's folders are."""
    code = (
        "import json; from pathlib import Path; from autograder import course_dir as c\n"
        "d = c.nbgrader_config().CourseDirectory\n"
        "print(json.dumps({'root': str(c.ROOT), 'gradebook': str(c.GRADEBOOK), 'nbgrader': "
        "[str(Path(d.root) / x) for x in (d.submitted_directory, d.autograded_directory, "
        "d.feedback_directory)]}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=copy, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def _plant_nbgrader_folders(paths: dict) -> None:
    """What nbgrader's own tools (collect, formgrader) leave in its working folders."""
    for folder in paths["nbgrader"]:
        target = Path(folder) / CLASSMATE / AID / NAME
        write_notebook(_classmate_submission(), target)


def _assert_spy_found_nothing(out: Path, subs: Path) -> None:
    feedback = (out / "feedback" / "spy" / AID / "01-definition.html").read_text()
    assert "SPY-READ " in feedback, "the spy's cell did not run"
    files = int(feedback.split("SPY-READ ")[1].split(" files")[0])
    assert files > 100, f"the spy read only {files} files"
    with open(out / "grades.csv", newline="") as handle:
        # Every student has a row per assignment (a missing hand-in scores 0): ours are 01's.
        rows = {r["student_id"]: r for r in csv.DictReader(handle) if r["assignment"] == AID}
    results = (out / ".results" / "spy" / f"{AID}.json").read_text()
    texts = {
        "feedback": feedback,
        "grades.csv row": json.dumps(rows["spy"]),
        "saved result": results,
    }
    for where, text in texts.items():
        assert "SPY-FOUND" not in text, (
            f"{where}:\n"
            + "\n".join(line for line in text.splitlines() if "SPY-FOUND" in line)[:3000]
        )
        for kind, needle in NEEDLES.items():
            assert needle not in text, f"{kind} reached the spy's {where}"
    assert "found 0 things" in feedback
    assert float(rows["spy"]["score"]) == float(rows["spy"]["max_score"]) == 10.0, rows["spy"]
    # The things the spy looked for were there to be found, on the grading machine.
    assert CLASSMATE in rows and float(rows[CLASSMATE]["score"]) == 10.0


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    copy = _copy_repository(tmp_path_factory.mktemp("privacy") / "course")
    paths = _course_paths(copy)
    assert Path(paths["root"]) == copy, "the test must import the copy's package"
    _plant_nbgrader_folders(paths)
    return copy, paths


@pytest.mark.slow
def test_spy_finds_nothing_in_the_default_layout(copy):
    """README: submissions in submitted/, `grade submitted/ --out graded/`, the default
    gradebook, everything inside the course folder."""
    copy, paths = copy
    write_notebook(_classmate_submission(), copy / "submitted" / CLASSMATE / AID / NAME)
    _grade(copy, "submitted/", "--out", "graded/")
    gradebook = Path(paths["gradebook"])
    data = gradebook.read_bytes()
    assert data.startswith(SQLITE.encode()) and CLASSMATE.encode() in data and AID.encode() in data
    write_notebook(_spy_submission(), copy / "submitted" / "spy" / AID / NAME)
    _grade(copy, "submitted/", "--out", "graded/")
    _assert_spy_found_nothing(copy / "graded", copy / "submitted")


@pytest.mark.slow
def test_spy_finds_nothing_with_everything_elsewhere(copy, tmp_path):
    """Submissions, --out and the gradebook outside the course folder."""
    copy, paths = copy
    subs, out = tmp_path / "subs", tmp_path / "out"
    write_notebook(_classmate_submission(), subs / CLASSMATE / AID / NAME)
    _grade(copy, subs, "--out", out, "--gradebook", tmp_path / "gb.db")
    write_notebook(_spy_submission(), subs / "spy" / AID / NAME)
    _grade(copy, subs, "--out", out, "--gradebook", tmp_path / "gb.db")
    _assert_spy_found_nothing(out, subs)


def test_sandbox_shows_single_files_and_no_instructor_code(assignments):
    """Every helper a given cell imports is mounted, as a file; nothing else of the course."""
    from autograder import course_dir
    from autograder.sandbox import read_only_mounts

    imported = set()
    for assignment in assignments.values():
        for code in assignment.given.values():
            for line in code.splitlines():
                words = line.split()
                if words[:1] in (["from"], ["import"]) and words[1].startswith("course"):
                    imported.add(words[1].replace(".", "/") + ".py")
    assert imported and imported <= set(course_dir.STUDENT_HELPERS)
    assert not set(course_dir.INSTRUCTOR_ONLY) & set(course_dir.SANDBOX_FILES)
    course_mounts = [
        Path(host) for host, _ in read_only_mounts() if course_dir.ROOT in Path(host).parents
    ]
    assert all(p.is_file() or p.name == ".venv" for p in course_mounts), course_mounts


def test_grade_refuses_output_where_the_sandbox_can_see_it(tmp_path):
    from autograder.sandbox import read_only_mounts

    (tmp_path / "subs").mkdir()
    shown = read_only_mounts()[0][0]  # a system folder, e.g. /usr
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(tmp_path / "subs"),
            "--out",
            f"{shown}/graded-here",
            "--gradebook",
            str(tmp_path / "gb.db"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"--out {shown}/graded-here is inside {shown}, which the sandbox shows" in done.stderr
    assert not Path(f"{shown}/graded-here").exists(), "nothing is written before refusing"
