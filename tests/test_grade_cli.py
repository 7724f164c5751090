"""The real command line, end to end: release -> submissions -> grade -> CSV + feedback."""

from __future__ import annotations

import csv
import html
import importlib
import json
import re

import pytest

from autograder import course_dir

from conftest import CHAPTERS, make_submission, normalised, run_cli, solution_lines, write_notebook


def first_mistake(assignment_id):
    module = importlib.import_module(f"mistakes_{assignment_id[:2]}")
    return module.MISTAKES[0]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs = root / "submitted"
    for aid in CHAPTERS:
        name = course_dir.notebook_path(aid, course_dir.RELEASED).name
        write_notebook(make_submission(aid), subs / "ada" / aid / name)
        write_notebook(make_submission(aid, stub=True), subs / "bob" / aid / name)
        mistake = first_mistake(aid)
        write_notebook(
            make_submission(aid, replacements={mistake["cell"]: mistake["code"]}),
            subs / "cyd" / aid / name,
        )
    name = course_dir.notebook_path(CHAPTERS[0], course_dir.RELEASED).name
    broken = subs / "dee" / CHAPTERS[0] / name
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [', encoding="utf-8")
    hang = make_submission(CHAPTERS[0])
    for cell in hang["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = "while True:\n    pass\n" + "".join(cell["source"])
            break
    write_notebook(hang, subs / "eve" / CHAPTERS[0] / name)
    (subs / "fay" / CHAPTERS[0]).mkdir(parents=True)  # an empty hand-in
    write_notebook(make_submission(CHAPTERS[0]), subs / "gus" / CHAPTERS[0] / "renamed (1).ipynb")
    out = root / "graded"
    # 10 s per cell: chapter 02's 1500 proxied single draws need headroom on a busy machine
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
    )
    return subs, out, done, root


def rows(out):
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}


def test_grade_exits_zero_and_writes_every_row(graded):
    subs, out, done, _ = graded
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    table = rows(out)
    # every student who handed anything in x every assignment; "missing" where nothing came
    students = ("ada", "bob", "cyd", "dee", "eve", "fay", "gus")
    assert set(table) == {(s, a) for s in students for a in CHAPTERS}
    for student in ("dee", "eve", "fay", "gus"):
        for aid in CHAPTERS[1:]:
            row = table[(student, aid)]
            assert row["status"] == "missing" and row["score"] == "0", row
    for aid in CHAPTERS:
        ada, bob, cyd = (table[(s, aid)] for s in ("ada", "bob", "cyd"))
        assert float(ada["score"]) == float(ada["max_score"]) > 0, ada
        assert float(bob["score"]) == 0, bob
        assert 0 <= float(cyd["score"]) < float(cyd["max_score"]), cyd


def test_broken_submissions_cost_only_their_own_marks(graded):
    _, out, done, _ = graded
    table = rows(out)
    dee = table[("dee", CHAPTERS[0])]
    assert float(dee["score"]) == 0 and dee["status"] == "failed"
    assert "not valid JSON" in dee["reason"]
    eve = table[("eve", CHAPTERS[0])]
    # The endless loop costs the tests of the function it stops (softmax); sigmoid, in
    # the cell after it, still earns its 3 points: the notebook runs on in a fresh process.
    assert float(eve["score"]) == 3 and "longer than 10 s" in eve["reason"]
    assert "fresh process" in eve["reason"]
    summary = (out / "summary.txt").read_text()
    assert "dee/01-definition" in summary and "not valid JSON" in summary
    assert "eve/01-definition" in summary and "longer than" in summary
    assert "dee/01-definition" in done.stdout
    fay = table[("fay", CHAPTERS[0])]
    assert float(fay["score"]) == 0 and "no notebook named" in fay["reason"]
    gus = table[("gus", CHAPTERS[0])]
    assert float(gus["score"]) == float(gus["max_score"]) and "should be named" in gus["reason"]


def test_feedback_pages_exist_and_hide_hidden_tests(graded):
    _, out, _, _ = graded
    for (student, aid), row in rows(out).items():
        if row["status"] == "missing":
            assert row["feedback"] == ""
            continue
        page = out / row["feedback"]
        assert page == out / "feedback" / student / aid / row["notebook"].replace(".ipynb", ".html")
        text = page.read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
        # Given cells run inside the sandbox too: their imports work there (the setup cell's
        # own source names the error it raises without the kit, so look for its message).
        shown = html.unescape(re.sub(r"<[^>]+>", "", text)).lower()
        assert "no module named" not in shown
        handed_in = list((out.parent / "submitted" / student / aid).glob("*.ipynb"))
        raw = handed_in[0].read_text(encoding="utf-8", errors="replace") if handed_in else ""
        try:
            raw = "\n".join("".join(c["source"]) for c in json.loads(raw)["cells"])
        except (ValueError, KeyError, TypeError):
            pass
        own = normalised(raw)
        plain = normalised(text)
        # Nothing secret shows, except code the student handed in themselves.
        leaked = [s for s in solution_lines(aid) if s in plain and s not in own]
        assert not leaked, (student, aid, leaked[:3])
        if student == "bob":
            assert "NotImplementedError" in text
        if row["status"] == "graded":
            assert f"Score: {float(row['score']):.1f} / {float(row['max_score']):.1f}" in text


def test_grading_again_gives_the_same_csv(graded):
    subs, out, _, root = graded
    before = (out / "grades.csv").read_text()
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
    )
    assert done.returncode == 0, done.stderr
    assert (out / "grades.csv").read_text() == before
    graded = sum(1 for r in rows(out).values() if r["status"] != "missing")
    assert f"Graded 0 notebook(s) in this run ({graded} from an earlier run)" in done.stdout


def test_gradebook_records_the_scores(graded):
    import warnings

    from nbgrader.api import Gradebook

    _, out, _, root = graded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
            submission = gb.find_submission(CHAPTERS[0], "ada")
            assert submission.score == submission.max_score > 0
            assert gb.find_submission(CHAPTERS[0], "bob").score == 0


def test_check_passes_the_reference_and_fails_the_stub(tmp_path):
    aid = CHAPTERS[0]
    name = course_dir.notebook_path(aid, course_dir.RELEASED).name
    good = write_notebook(make_submission(aid), tmp_path / "good" / name)
    done = run_cli("check", good)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout and "FAIL" not in done.stdout
    stub = write_notebook(make_submission(aid, stub=True), tmp_path / "stub" / name)
    done = run_cli("check", stub)
    assert done.returncode == 1
    assert "FAIL" in done.stdout and "NotImplementedError" in done.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("{not json", "not valid JSON"),
        ('{"a": 1}', "not a Jupyter notebook"),
    ],
)
def test_check_explains_unreadable_notebooks(tmp_path, content, message):
    path = tmp_path / "01-definition.ipynb"
    path.write_text(content, encoding="utf-8")
    done = run_cli("check", path)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr


def test_grade_refuses_bad_arguments_clearly(tmp_path):
    done = run_cli("grade", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert done.returncode == 2 and "no such folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_measures_memory_and_streams_blocks_in_chapter_07(tmp_path):
    """`check` runs chapter 07's memory tests in the student's process: the reference passes
    them (generators of blocks included), a version that builds the full scores fails only them."""
    aid = "07-softmax-at-scale"
    if aid not in CHAPTERS:
        pytest.skip("chapter 07 is not in this course")
    name = course_dir.notebook_path(aid, course_dir.RELEASED).name
    good = write_notebook(make_submission(aid), tmp_path / "good" / name)
    done = run_cli("check", good)
    assert done.returncode == 0, done.stdout + done.stderr
    for test in (
        "test_online_memory",
        "test_online_generator",
        "test_flash_memory",
        "test_chunked_ce_memory",
        "test_chunked_ce_grad_memory",
    ):
        assert f"PASS  {test}" in done.stdout, done.stdout
    module = importlib.import_module("mistakes_07")
    full = next(
        m for m in module.MISTAKES if m["name"].startswith("flash_attention builds the full")
    )
    bad = write_notebook(
        make_submission(aid, replacements={full["cell"]: full["code"]}), tmp_path / "bad" / name
    )
    done = run_cli("check", bad)
    assert done.returncode == 1
    assert "FAIL  test_flash_memory" in done.stdout and "allocated up to" in done.stdout
    assert "PASS  test_flash_values" in done.stdout and "PASS  test_flash_mask" in done.stdout


def test_exit_status_says_whether_every_folder_was_graded(tmp_path):
    """0 when every folder is graded, 1 when one is skipped (an unknown assignment), and the
    skipped folder never costs the others their grades."""
    subs = tmp_path / "submitted"
    write_notebook(
        make_submission("01-definition"), subs / "ada" / "01-definition" / "01-definition.ipynb"
    )
    done = run_cli(
        "grade",
        subs,
        "--out",
        tmp_path / "out",
        "--gradebook",
        tmp_path / "gb.db",
        "--workers",
        "1",
        "--timeout",
        "30",
    )
    assert done.returncode == 0, done.stderr
    (subs / "ada" / "99-unknown").mkdir()
    done = run_cli(
        "grade",
        subs,
        "--out",
        tmp_path / "out",
        "--gradebook",
        tmp_path / "gb.db",
        "--workers",
        "1",
        "--timeout",
        "30",
    )
    assert done.returncode == 1 and "were not graded" in done.stderr, done.stderr
    assert "unknown assignment '99-unknown'" in (tmp_path / "out" / "summary.txt").read_text()
    assert (
        "ada,01-definition,01-definition.ipynb,10" in (tmp_path / "out" / "grades.csv").read_text()
    )


def test_a_folder_with_several_notebooks_names_them(tmp_path):
    """The released name is graded and the others are named; several others and none under
    the released name: all are named and none is guessed at."""
    aid = "01-definition"
    name = course_dir.notebook_path(aid, course_dir.RELEASED).name
    subs = tmp_path / "submitted"
    write_notebook(make_submission(aid), subs / "eve" / aid / name)
    write_notebook(make_submission(aid, stub=True), subs / "eve" / aid / "copy.ipynb")
    write_notebook(make_submission(aid), subs / "gin" / aid / "a.ipynb")
    write_notebook(make_submission(aid), subs / "gin" / aid / "b.ipynb")
    write_notebook(make_submission(aid), subs / "fay" / aid / "mine.ipynb")
    done = run_cli(
        "grade", subs, "--out", tmp_path / "out", "--gradebook", tmp_path / "gb.db",
        "--assignment", aid, "--workers", "2", "--timeout", "30", "--no-sandbox", timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    table = rows(tmp_path / "out")
    eve, gin, fay = (table[(s, aid)] for s in ("eve", "gin", "fay"))
    assert eve["score"] == "10" and "copy.ipynb" in eve["reason"]
    assert gin["status"] == "failed"
    assert "a.ipynb, b.ipynb" in gin["reason"] and name in gin["reason"]
    assert fay["score"] == "10" and "graded mine.ipynb" in fay["reason"]
    summary = (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert "copy.ipynb" in summary and "a.ipynb, b.ipynb" in summary
    page = (tmp_path / "out" / gin["feedback"]).read_text(encoding="utf-8")
    assert "a.ipynb" in page and "b.ipynb" in page
