"""What the class got wrong: OUT/report.html and report.csv after grading."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter

import pytest

from autograder import course_dir
from autograder.report import STUB_HINT, hint_of, known_hints, unhinted_label, write_report

import mistakes_01
import mistakes_03
from conftest import make_submission, run_cli, write_notebook

A1 = "01-definition"
NB1 = course_dir.notebook_path(A1, course_dir.RELEASED).name
WHOLE = next(
    m for m in mistakes_01.MISTAKES if m["name"] == "softmax normalises over the whole array"
)
NO_AXIS = next(m for m in mistakes_01.MISTAKES if m["name"] == "softmax ignores the axis argument")
STUDENTS = {"ada": None, "bob": "stub", "cyd": WHOLE, "dan": NO_AXIS, "eve": NO_AXIS}


def test_known_hints_come_from_the_tests_and_checks():
    hints = known_hints(A1)
    assert "did you normalise over the whole array instead of along the last axis?" in hints
    assert "softmax(z + c) must equal softmax(z)" in hints  # a hint= keyword
    assert "did you sum or take the max without keepdims=True?" in hints  # course.checks
    assert STUB_HINT in hints
    assert not any(h.startswith("30") for h in hints)  # "softmax(z - 30)" is no hint


def test_hint_of_matches_the_end_of_a_line_only():
    hints = {"is the axis argument used?", "used?"}
    assert (
        hint_of("AssertionError: bad sums - is the axis argument used?\n  (line 4)", hints)
        == "is the axis argument used?"
    )
    assert hint_of("softmax(z - 30, axis=0): 6 of 6 values are wrong", hints) == ""
    assert hint_of("", hints) == ""


def _fake_out(tmp_path):
    """A graded OUT written by hand: three students, two tests."""
    out = tmp_path / "out"
    rows = []
    tests = {"ada": (True, True), "bob": (False, True), "cyd": (False, False)}
    for sid, (first, second) in tests.items():
        result = {
            "tests": [
                {
                    "grade_id": "test_a",
                    "description": "first",
                    "points": 1.0,
                    "score": float(first),
                    "passed": first,
                    "message": ""
                    if first
                    else "AssertionError: sums wrong - is the axis argument used?",
                },
                {
                    "grade_id": "test_b",
                    "description": "second",
                    "points": 2.0,
                    "score": 2.0 * second,
                    "passed": second,
                    "message": "" if second else "ValueError: shapes (2,3) (2,)",
                },
            ]
        }
        folder = out / ".results" / sid
        folder.mkdir(parents=True)
        (folder / f"{A1}.json").write_text(json.dumps({"result": result}), encoding="utf-8")
        rows.append(
            {
                "student_id": sid,
                "assignment": A1,
                "score": f"{first + 2 * second:g}",
                "max_score": "3",
                "status": "graded",
                "feedback": f"feedback/{sid}/{A1}/{NB1[:-6]}.html",
            }
        )
    rows.append(
        {
            "student_id": "dee",
            "assignment": A1,
            "score": "0",
            "max_score": "3",
            "status": "missing",
            "feedback": "",
        }
    )
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def _table(out):
    return list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))


def test_report_counts_and_is_inert_and_anonymous(tmp_path):
    out = _fake_out(tmp_path)
    write_report(out)
    table = _table(out)
    tests = {r["test"]: r for r in table if r["kind"] == "test"}
    assert (tests["test_a"]["students"], tests["test_a"]["of"]) == ("1", "3")
    assert (tests["test_b"]["students"], tests["test_b"]["of"]) == ("2", "3")
    hints = [r for r in table if r["kind"] == "hint"]
    assert [(h["test"], h["hint"], h["students"]) for h in hints] == [
        ("test_a", "is the axis argument used?", "2")
    ]
    unhinted = [r for r in table if r["kind"] == "unhinted"]
    assert [(u["test"], u["hint"], u["students"]) for u in unhinted] == [
        ("test_b", "ValueError", "1")
    ]
    scores = {r["hint"]: r["students"] for r in table if r["kind"] == "score"}
    assert scores == {"3": "1", "2": "1", "0": "1"}  # dee handed nothing in
    assessed = next(r for r in table if r["kind"] == "assignment")
    assert (assessed["students"], assessed["of"]) == ("3", "4")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page and "<svg" in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", page)
    for sid in ("ada", "bob", "cyd", "dee"):
        assert not re.search(rf"\b{sid}\b", page)
        assert sid not in (out / "report.csv").read_text(encoding="utf-8")


def test_report_names_only_when_asked(tmp_path):
    out = _fake_out(tmp_path)
    done = run_cli("report", out, "--names", timeout=120)
    assert done.returncode == 0, done.stderr
    hint = next(r for r in _table(out) if r["kind"] == "hint")
    assert hint["student_ids"] == "bob, cyd"
    assert "bob, cyd" in (out / "report.html").read_text(encoding="utf-8")
    missing = run_cli("report", tmp_path / "nowhere", timeout=120)
    assert missing.returncode == 2 and "run grade first" in missing.stderr


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    subs = root / "submitted"
    for sid, what in STUDENTS.items():
        if what is None:
            nb = make_submission(A1)
        elif what == "stub":
            nb = make_submission(A1, stub=True)
        else:
            nb = make_submission(A1, replacements={what["cell"]: what["code"]})
        write_notebook(nb, subs / sid / A1 / NB1)
    out = root / "graded"
    done = run_cli(
        "grade",
        subs,
        "--out",
        out,
        "--workers",
        "2",
        "--timeout",
        "10",
        "--gradebook",
        root / "gradebook.db",
        "--assignment",
        A1,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.slow
def test_class_report_counts_match_the_graded_results(graded_class):
    out = graded_class
    table = _table(out)
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = [r for r in csv.DictReader(handle) if r["assignment"] == A1]
    # the score distribution is grades.csv's
    scores = {
        r["hint"]: int(r["students"])
        for r in table
        if r["kind"] == "score" and r["assignment"] == A1
    }
    assert scores == {f"{float(k):g}": v for k, v in Counter(r["score"] for r in grades).items()}
    # per test: the passes saved for each student
    tests = {r["test"]: r for r in table if r["kind"] == "test" and r["assignment"] == A1}
    source = json.loads(course_dir.notebook_path(A1).read_text(encoding="utf-8"))
    grade_ids = {
        c["metadata"]["nbgrader"]["grade_id"]
        for c in source["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade")
    }
    assert set(tests) == grade_ids
    for grade_id, row in tests.items():
        assert row["of"] == str(len(STUDENTS))
        catching = sum(
            1 for w in STUDENTS.values() if isinstance(w, dict) and grade_id in w["catches"]
        )
        # ada passes everything, the stub nothing, a mistake fails the tests that catch it
        assert 1 <= int(row["students"]) <= len(STUDENTS) - 1 - catching
    hints = {(r["test"], r["hint"]): int(r["students"]) for r in table if r["kind"] == "hint"}
    # the named mistakes are counted under the hint their test gives
    assert (
        hints[
            (
                "test_softmax_axis",
                "did you normalise over the whole array instead of along the last axis?",
            )
        ]
        == 1
    )
    assert hints[("test_softmax_axis", "is the axis argument used?")] == 2
    # the stub is one student under the "not written yet" hint of every test
    assert all(hints[(g, STUB_HINT)] == 1 for g in grade_ids)
    page = (out / "report.html").read_text(encoding="utf-8")
    ranked = page.split("Misconceptions of this class, ranked")[1].split("</table>")[0]
    first = re.search(r"<tr><td>(\d+)</td>", ranked)
    unhinted: Counter = Counter()
    for r in table:
        if r["kind"] == "unhinted":
            unhinted[r["test"]] += int(r["students"])
    top = max([n for (_, h), n in hints.items() if h != STUB_HINT] + list(unhinted.values()))
    assert first and int(first.group(1)) == top
    assert STUB_HINT not in ranked  # an unwritten answer is counted apart, not ranked
    assert "1 left at least one answer not written" in page
    for sid in STUDENTS:
        assert not re.search(rf"\b{sid}\b", page)


def _ranked_rows(out) -> list[tuple[int, str, str]]:
    page = (out / "report.html").read_text(encoding="utf-8")
    ranked = page.split("Misconceptions of this class, ranked")[1].split("</table>")[0]
    return [
        (int(n), test, html.unescape(re.sub("<[^>]+>", "", hint)))
        for n, test, hint in re.findall(
            r"<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td><td>(.*?)</td>", ranked
        )
    ]


def test_failures_without_a_hint_are_ranked_per_test(tmp_path):
    out = _fake_out(tmp_path)
    write_report(out)
    ranked = _ranked_rows(out)
    assert (2, "test_a", "is the axis argument used?") in ranked
    assert (1, "test_b", unhinted_label("test_b")) in ranked


NAIVE = mistakes_03.MISTAKES[0]


@pytest.mark.slow
def test_the_naive_stable_softmax_is_ranked(tmp_path):
    """The commonest mistake of chapter 03 (no max subtraction) fails 7 tests, first at the
    warning and NaN checks: it is ranked, under the overflow hint and per test."""
    aid = mistakes_03.ASSIGNMENT
    name = course_dir.notebook_path(aid, course_dir.RELEASED).name
    assert "without the max subtraction" in NAIVE["name"]
    subs = tmp_path / "submitted"
    naive = make_submission(aid, replacements={NAIVE["cell"]: NAIVE["code"]})
    for sid in ("ada", "bob", "cyd"):
        write_notebook(naive, subs / sid / aid / name)
    write_notebook(make_submission(aid), subs / "dan" / aid / name)
    out = tmp_path / "graded"
    done = run_cli(
        "grade", subs, "--out", out, "--workers", "2", "--timeout", "30",
        "--gradebook", tmp_path / "gb.db", "--assignment", aid, "--no-sandbox", timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    ranked = _ranked_rows(out)
    overflow = "np.exp overflowed: rewrite the formula so that exp only ever sees arguments <= 0"
    by_test = {test: (n, hint) for n, test, hint in ranked}
    assert set(by_test) == NAIVE["catches"]  # every failed test is ranked, none is lost
    assert all(n == 3 for n, _ in by_test.values())
    for test in ("test_stable_softmax_huge_scores", "test_stable_softmax_float32"):
        assert by_test[test][1].startswith(overflow)
    unnamed = {t for t, (_, h) in by_test.items() if h == unhinted_label(t)}
    assert unnamed and "test_stable_softmax_undefined_rows" in unnamed
    assert ranked[0][0] == 3  # at the top of the ranking
