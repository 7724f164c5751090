"""An instructor's term: regrading, rosters and missing work, subsets, dropped students,
late work, real names, file permissions and the feedback page's MathJax.

One small class (chapter 01) is graded by the real command, step by step, as an
instructor would through a term; each test reads what one step left behind.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import unicodedata
import warnings

import pytest

from autograder import course_dir
from autograder.fingerprint import course_files, grader_fingerprint
from autograder.late import UTC, ConfigError, LatePolicy, load_policy, read_timestamp
from autograder.roster import RosterError, folder_name, read_roster, student_id

from conftest import CHAPTERS, make_submission, run_cli, write_notebook

AID = CHAPTERS[0]
NAME = course_dir.notebook_path(AID, course_dir.RELEASED).name
ZOE_NFD = unicodedata.normalize("NFD", "zoë")
ROSTER = ["ada", "bob", "zoë", "学生", "ada lovelace", "O'Brien", "cyd"]


def table(out):
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}


def gradebook_students(db):
    from nbgrader.api import Gradebook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{db}") as gb:
            return {s.id: s for s in gb.students}, {
                (s.student.id, s.assignment.name): s.score
                for a in gb.assignments
                for s in a.submissions
            }


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    root = tmp_path_factory.mktemp("term")
    subs, out, db = root / "submitted", root / "graded", root / "gradebook.db"
    for sid in ("ada", ZOE_NFD, "学生", "ada lovelace", "O'Brien", ".hidden", "bad\x07id", "eve"):
        write_notebook(make_submission(AID), subs / sid / AID / NAME)
    write_notebook(make_submission(AID, stub=True), subs / "bob" / AID / NAME)
    (subs / "ada" / AID / "timestamp.txt").write_text("2026-09-14 20:00:00.000000 UTC")
    # Two days and one minute late in UTC, from a Paris clock (UTC+2).
    (subs / ZOE_NFD / AID / "timestamp.txt").write_text("2026-09-17 02:00:00.000000 +0200")
    # (nbgrader's format is "%Y-%m-%d %H:%M:%S.%f %Z"; a numeric zone is read correctly too)
    (subs / "O'Brien" / AID / "timestamp.txt").write_text("yesterday-ish")
    (root / "roster.csv").write_text(
        "id,first_name,last_name,email\n"
        + "".join(f'"{s}",,,\n' for s in ROSTER)
        + "ada,Ada,Again,\n.dot,,,\n",
        encoding="utf-8",
    )
    (root / "grading.toml").write_text(
        f"[late]\npercent_per_day = 25\nmax_percent = 40\ngrace_minutes = 30\n"
        f'[due]\n"{AID}" = 2026-09-14T23:59:00Z\n',
        encoding="utf-8",
    )
    base = [
        "grade",
        subs,
        "--out",
        out,
        "--gradebook",
        db,
        "--workers",
        "2",
        "--timeout",
        "5",
        "--config",
        root / "grading.toml",
        "--students",
        root / "roster.csv",
    ]
    steps = {}

    def step(name, *extra, umask=None):
        done = run_cli(*base, *extra, preexec_fn=(lambda: os.umask(umask)) if umask else None)
        # 1: the folders of eve (not on the roster) and of the unusable ids are skipped
        assert done.returncode == 1 and "were not graded" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        steps[name] = {
            "stdout": done.stdout,
            "table": table(out),
            "summary": (out / "summary.txt").read_text(encoding="utf-8"),
            "modes": {
                p.name: stat.S_IMODE(p.stat().st_mode)
                for p in (out / "grades.csv", out / "summary.txt")
            },
            "gradebook": gradebook_students(db),
            "feedback": sorted(p.name for p in (out / "feedback").iterdir()),
        }

    step("first", umask=0o027)
    step("again")
    write_notebook(make_submission(AID), subs / "bob" / AID / NAME)  # bob resubmits
    step("bob only", "--student", "bob", "--assignment", AID)
    step("new limits", "--assignment", AID, "--timeout", "6")
    step("forced", "--force", "--student", "ada", "--timeout", "6")
    (root / "roster.csv").write_text(
        "id,first_name,last_name,email\n"
        + "".join(f'"{s}",,,\n' for s in ROSTER if s not in ("cyd", "ada lovelace")),
        encoding="utf-8",
    )
    step("dropped", "--timeout", "6")
    return root, out, steps


@pytest.mark.slow
def test_every_roster_student_gets_a_row_for_every_assignment(term):
    _, _, steps = term
    rows = steps["first"]["table"]
    assert set(rows) == {(s, a) for s in ROSTER for a in CHAPTERS}
    for aid in CHAPTERS[1:]:
        assert rows[("ada", aid)]["status"] == "missing" and rows[("ada", aid)]["score"] == "0"
        assert rows[("ada", aid)]["max_score"] != "0"
    assert all(rows[("cyd", a)]["status"] == "missing" for a in CHAPTERS)
    summary = steps["first"]["summary"]
    assert "Missing (nothing submitted, scored 0):" in summary
    assert f"  cyd: {', '.join(CHAPTERS)}" in summary
    # not on the roster: skipped, named in the summary
    assert "'eve' is not on the roster (ignored)" in summary
    assert "roster.csv line 10: '.dot': the id starts with a dot" in summary
    assert "roster.csv line 9: 'ada' is listed twice" in summary
    students, _ = steps["first"]["gradebook"]
    assert set(students) == set(ROSTER)  # missing students are in nbgrader's gradebook too


@pytest.mark.slow
def test_real_names_are_graded_under_safe_folders(term):
    _, out, steps = term
    rows = steps["first"]["table"]
    for sid in ("zoë", "学生", "ada lovelace", "O'Brien"):
        row = rows[(sid, AID)]
        assert row["status"] == "graded" and row["raw_score"] == row["max_score"], row
        page = out / row["feedback"]
        assert page.parent.parent.name == folder_name(sid) in steps["first"]["feedback"]
        assert page.is_file() or sid == "ada lovelace"  # dropped at the end of the term
        assert page.parent.parent.name.isascii() and " " not in page.parent.parent.name
    summary = steps["first"]["summary"]
    assert "not a usable student id: the id starts with a dot" in summary
    assert "bad\\x07id: not a usable student id: the id contains control" in summary
    _, scores = steps["first"]["gradebook"]
    assert scores[("学生", AID)] == 10 and scores[("zoë", AID)] == 10


@pytest.mark.slow
def test_late_work_is_penalised_and_shown(term):
    _, out, steps = term
    rows = steps["first"]["table"]
    zoe = rows[("zoë", AID)]
    # 2026-09-17 00:00 UTC is 2 days 1 min after the due date; less the 30 min of grace, 2
    # started days x 25% = 50%, capped at 40% of 10 points.
    assert zoe["timestamp"] == "2026-09-17T00:00:00Z" and zoe["duedate"] == "2026-09-14T23:59:00Z"
    assert (zoe["raw_score"], zoe["late_penalty"], zoe["score"]) == ("10", "4", "6")
    assert zoe["days_late"] == "2.00"
    ada = rows[("ada", AID)]
    assert (ada["late_penalty"], ada["score"], ada["days_late"]) == ("0", "10", "0")
    page = (out / zoe["feedback"]).read_text(encoding="utf-8")
    assert "2 days 1 min after the due date" in page and "late penalty 4 points" in page
    assert "Late submission penalty (Score: -4.0)" in page  # nbgrader's own line
    assert "on time" in (out / ada["feedback"]).read_text(encoding="utf-8")
    assert "zoë/01-definition: 2 days 1 min late, -4 points" in steps["first"]["summary"]
    obrien = rows[("O'Brien", AID)]
    assert "timestamp.txt could not be read" in obrien["reason"] and obrien["late_penalty"] == "0"


@pytest.mark.slow
def test_regrading_reuses_only_what_is_still_valid(term):
    _, _, steps = term
    graded = sum(1 for r in steps["first"]["table"].values() if r["status"] == "graded")
    assert (
        f"Graded {graded} notebook(s) in this run (0 from an earlier run)"
        in steps["first"]["stdout"]
    )
    assert (
        f"Graded 0 notebook(s) in this run ({graded} from an earlier run)"
        in steps["again"]["stdout"]
    )
    assert steps["again"]["table"] == steps["first"]["table"]
    # new limits: every selected submission is graded again
    assert (
        f"Graded {graded} notebook(s) in this run (0 from an earlier run)"
        in steps["new limits"]["stdout"]
    )
    assert "Graded 1 notebook(s) in this run (0 from an earlier run)" in steps["forced"]["stdout"]


@pytest.mark.slow
def test_a_subset_updates_the_class_table_in_place(term):
    _, _, steps = term
    before, after = steps["first"]["table"], steps["bob only"]["table"]
    assert float(before[("bob", AID)]["score"]) == 0
    assert after[("bob", AID)]["score"] == after[("bob", AID)]["max_score"]
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if k != ("bob", AID)} == {
        k: v for k, v in before.items() if k != ("bob", AID)
    }
    summary = steps["bob only"]["summary"]
    assert summary.startswith("Graded 1 notebook(s) in this run (0 from an earlier run)")
    assert "only assignment 01-definition; student bob" in summary


@pytest.mark.slow
def test_a_dropped_student_leaves_every_output(term):
    root, out, steps = term
    rows = steps["dropped"]["table"]
    assert {s for s, _ in rows} == set(ROSTER) - {"cyd", "ada lovelace"}
    assert folder_name("ada lovelace") not in steps["dropped"]["feedback"]
    assert folder_name("ada lovelace") in steps["first"]["feedback"]
    assert not (out / ".results" / folder_name("ada lovelace")).exists()
    students, scores = steps["dropped"]["gradebook"]
    assert "ada lovelace" not in students and "cyd" not in students
    assert ("ada lovelace", AID) not in scores
    assert "Dropped (not on the roster" in steps["dropped"]["summary"]
    assert "  ada lovelace\n  cyd\n" in steps["dropped"]["summary"]


@pytest.mark.slow
def test_outputs_honour_the_umask_and_feedback_uses_local_mathjax(term):
    _, out, steps = term
    assert steps["first"]["modes"] == {"grades.csv": 0o640, "summary.txt": 0o640}
    mask = os.umask(0o022)
    os.umask(mask)
    assert steps["again"]["modes"] == {"grades.csv": 0o666 & ~mask, "summary.txt": 0o666 & ~mask}
    page_path = out / steps["first"]["table"][("ada", AID)]["feedback"]
    page = page_path.read_text(encoding="utf-8")
    remote = re.findall(
        r"""<(?:script|link|img)[^>]*(?:src|href)=["']?(?:https?:)?//[^>]*>""", page
    )
    assert not remote and "cdnjs" not in page
    assert 'src="../../../mathjax/tex-chtml.js"' in page
    assert (page_path.parent / "../../../mathjax/tex-chtml.js").resolve().is_file()
    assert (out / "mathjax" / "tex-chtml.js").read_bytes() == (
        course_dir.MATHJAX / "tex-chtml.js"
    ).read_bytes()


# -- units ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, accepted",
    [
        ("ada", "ada"),
        (ZOE_NFD, "zoë"),
        ("学生", "学生"),
        ("ada lovelace", "ada lovelace"),
        ("O'Brien", "O'Brien"),
        ("a<b>&c", "a<b>&c"),
        (".ada", None),
        ("ada/..", None),
        ("a\\b", None),
        ("bad\x07", None),
        ("ad\u202ea", None),
        (" ada", None),
        ("ada\n", None),
        ("", None),
        ("x" * 101, None),
        ("a\u00a0b", None),
    ],
)
def test_student_ids(raw, accepted):
    sid, why = student_id(raw)
    assert sid == accepted and (why == "") == (accepted is not None)


def test_safe_folder_names_are_distinct_ascii_and_keep_plain_ids():
    ids = [
        "ada",
        "zoë",
        "zoe",
        "学生",
        "学习",
        "ada lovelace",
        "ada_lovelace",
        "O'Brien",
        "..",
        "a<b>&c",
        "Ada",
    ]
    folders = [folder_name(student_id(s)[0] or s) for s in ids]
    assert len(set(folders)) == len(folders)
    assert folder_name("ada") == "ada" and folder_name("ada_lovelace") == "ada_lovelace"
    for folder in folders:
        assert folder.isascii() and folder.isprintable() and "/" not in folder
        assert not folder.startswith(".") and " " not in folder and "'" not in folder


def test_roster_in_nbgrader_import_format(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        "\ufeffid,last_name,first_name,email,section\nada,Lovelace,Ada,a@x,1\n"
        f"{ZOE_NFD},,Zoë,,2\n,,,,\n",
        encoding="utf-8",
    )
    roster = read_roster(path)
    assert list(roster.students) == ["ada", "zoë"]
    assert roster.students["ada"].last_name == "Lovelace" and roster.students["ada"].email == "a@x"
    path.write_text("name,email\nada,a@x\n", encoding="utf-8")
    with pytest.raises(RosterError, match="'id' column"):
        read_roster(path)


def test_late_penalty_policy():
    due = {"a": __import__("datetime").datetime(2026, 1, 1, 12, tzinfo=UTC)}
    policy = LatePolicy(percent_per_day=10, max_percent=25, grace_minutes=10, due=due)
    at = lambda minutes: due["a"] + __import__("datetime").timedelta(minutes=minutes)  # noqa: E731
    assert policy.penalty("a", at(10), 20).penalty == 0  # within the grace period
    assert policy.penalty("a", at(11), 20).penalty == 2  # a started day: 10% of 20
    assert policy.penalty("a", at(10 + 1440), 20).penalty == 2
    assert policy.penalty("a", at(11 + 1440), 20).penalty == 4
    assert policy.penalty("a", at(10 * 1440), 20).penalty == 5  # capped at 25%
    assert policy.penalty("a", None, 20).penalty == 0  # no timestamp: never late
    assert policy.penalty("b", at(9999), 20).penalty == 0  # no due date: never late


@pytest.mark.parametrize(
    "text, message",
    [
        ("[late\n", "not valid TOML"),
        ("[late]\npercent_per_day = -1\n", "from 0 to 100"),
        ("[late]\nper_day = 1\n", "unknown setting"),
        ("[due]\n'01-definition' = 'friday'\n", "TOML date-time"),
        ("[extensions]\n", "unknown section"),
    ],
)
def test_bad_grading_config_is_one_clear_message(tmp_path, text, message):
    path = tmp_path / "grading.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_policy(path, CHAPTERS)
    if message != "not valid TOML":
        return  # the command line path is the same for every case: checked once
    (tmp_path / "subs").mkdir()
    done = run_cli(
        "grade",
        tmp_path / "subs",
        "--out",
        tmp_path / "out",
        "--config",
        path,
        "--gradebook",
        tmp_path / "gb.db",
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert str(path) in done.stderr


def test_grading_config_accepts_dates_and_warns_about_unknown_assignments(tmp_path):
    path = tmp_path / "grading.toml"
    path.write_text(f'[due]\n"{AID}" = 2026-09-14\n"99-nothing" = 2026-09-14T10:00:00\n')
    policy, notes = load_policy(path, CHAPTERS)
    assert policy.due[AID].isoformat() == "2026-09-14T23:59:59+00:00"
    assert notes == ["grading.toml: due date for unknown assignment '99-nothing' (ignored)"]


def test_timestamps_as_nbgrader_writes_them(tmp_path):
    (tmp_path / "timestamp.txt").write_text("2026-09-14 23:59:00.123456 UTC\n")
    assert read_timestamp(tmp_path)[0].isoformat() == "2026-09-14T23:59:00.123456+00:00"
    (tmp_path / "timestamp.txt").write_text("2026-09-14 18:59:00 -0500")
    assert read_timestamp(tmp_path)[0].isoformat() == "2026-09-14T23:59:00+00:00"
    (tmp_path / "timestamp.txt").write_text("not a date")
    when, problem = read_timestamp(tmp_path)
    assert when is None and "could not be read" in problem
    assert read_timestamp(tmp_path / "nowhere") == (None, "")


def test_grading_code_changes_change_the_fingerprint(tmp_path, assignments):
    """Editing a course helper the tests import, or a grader module, changes the key;
    editing an unrelated course module does not."""
    root = tmp_path / "course-root"
    for part in ("autograder", "course"):
        shutil.copytree(
            course_dir.ROOT / part,
            root / part,
            ignore=shutil.ignore_patterns(
                "__pycache__", "*.db", "submitted", "autograded", "feedback"
            ),
        )
    codes = [
        c
        for s in assignments.values()
        for c in [*s.given.values(), *(t.code for t in s.tests.values())]
    ]
    names = {p.name for p in course_files(codes, root)}
    assert {"checks.py", "__init__.py"} <= names and "explorers.py" not in names
    first = grader_fingerprint(assignments, root)
    assert grader_fingerprint(assignments, root) == first
    (root / "course" / "explorers.py").write_text("# unrelated\n", encoding="utf-8")
    assert grader_fingerprint(assignments, root) == first
    with open(root / "course" / "checks.py", "a", encoding="utf-8") as handle:
        handle.write("\n# a changed helper\n")
    second = grader_fingerprint(assignments, root)
    assert second != first
    with open(root / "autograder" / "checker.py", "a", encoding="utf-8") as handle:
        handle.write("\n# a changed grader\n")
    assert grader_fingerprint(assignments, root) not in (first, second)


def test_unknown_filters_are_refused(tmp_path):
    (tmp_path / "subs").mkdir()
    done = run_cli(
        "grade",
        tmp_path / "subs",
        "--out",
        tmp_path / "out",
        "--assignment",
        "99-x",
        "--gradebook",
        tmp_path / "gb.db",
    )
    assert done.returncode == 2 and "99-x: no such assignment" in done.stderr
    done = run_cli(
        "grade",
        tmp_path / "subs",
        "--out",
        tmp_path / "out",
        "--student",
        "nobody",
        "--gradebook",
        tmp_path / "gb.db",
        "--no-sandbox",
    )
    assert done.returncode == 2 and "nobody: not in the class" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_feedback_page_renders_maths_offline_in_a_browser(term, chromium):
    """The page, opened from disk, typesets its formulas with the local MathJax and asks
    nothing of the network."""
    _, out, steps = term
    page_path = out / steps["first"]["table"][("ada", AID)]["feedback"]
    requests = []
    with chromium.new_context() as context:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri(), wait_until="load")
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000
        )
        page.evaluate("() => MathJax.startup.promise.then(() => true)")
        page.wait_for_selector("mjx-container", state="attached", timeout=30_000)
        assert page.locator("mjx-merror").count() == 0
    assert requests and all(url.startswith("file://") for url in requests), requests
