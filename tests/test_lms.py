"""The LMS round trip: Canvas and Moodle zips in, hostile zips refused, Canvas CSV out."""

from __future__ import annotations

import csv
import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from autograder import course_dir
from autograder.late import LATE_FLAG_FILE, LatePolicy, read_late_flag, read_timestamp
from autograder.lms import CANVAS_FIXED, canvas_csv, feedback_zips
from autograder.roster import read_roster

from conftest import make_submission, run_cli

A1, A2 = "01-definition", "02-temperature"
NB1 = course_dir.notebook_path(A1, course_dir.RELEASED).name
NB2 = course_dir.notebook_path(A2, course_dir.RELEASED).name


def nb_bytes(aid: str, tag: str = "") -> bytes:
    nb = make_submission(aid)
    nb["metadata"]["tag"] = tag  # tells attempts apart
    return json.dumps(nb).encode()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def tag_of(path: Path) -> str:
    return json.loads(path.read_text(encoding="utf-8"))["metadata"]["tag"]


def collect(*args):
    return run_cli("collect", *args, timeout=120)


def test_canvas_zip_places_latest_attempts_and_maps_ids(tmp_path):
    # Canvas: lastnamefirstname_[late_]<user id>_<submission id>_<file>, resubmissions -1, -2
    zip_path = make_zip(
        tmp_path / "submissions.zip",
        {
            f"lovelaceada_12345_6789012_{NB1}": nb_bytes(A1, "ada-1"),
            f"lovelaceada_12345_6789013_{NB1[:-6]}-1.ipynb": nb_bytes(A1, "ada-2"),
            f"babbagecharles_late_23456_6789014_{NB1}": nb_bytes(A1, "charles"),
            f"lovelaceada_12345_6789015_{NB2}": nb_bytes(A2, "ada-t"),
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,email,lms_user_id\n"
        "ada,Ada,Lovelace,ada@example.org,12345\n"
        "charles,Charles,Babbage,,\n",
        encoding="utf-8",
    )
    subs = tmp_path / "submitted"
    done = collect(zip_path, "--out", subs, "--students", roster)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tag_of(subs / "ada" / A1 / NB1) == "ada-2"  # the later attempt
    assert tag_of(subs / "ada" / A2 / NB2) == "ada-t"
    assert tag_of(subs / "charles" / A1 / NB1) == "charles"  # found by name
    assert "(late, no time given" in done.stdout and "Older attempts left out (1)" in done.stdout
    assert sorted(p.name for p in subs.iterdir()) == ["ada", "charles"]


def test_canvas_ids_are_student_ids_without_a_roster(tmp_path):
    zip_path = make_zip(tmp_path / "s.zip", {f"lovelaceada_12345_6789012_{NB1}": nb_bytes(A1)})
    done = collect(zip_path, "--out", tmp_path / "subs", "--format", "canvas")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "subs" / "12345" / A1 / NB1).is_file()


def test_moodle_zip_in_folders_and_flat(tmp_path):
    zip_path = make_zip(
        tmp_path / "moodle.zip",
        {
            f"Ada Lovelace_101_assignsubmission_file_/{NB1}": nb_bytes(A1, "ada"),
            f"Charles Babbage_102_assignsubmission_file_{NB1}": nb_bytes(A1, "charles"),
            "Grace Hopper_103_assignsubmission_file_/notes.txt": b"not a notebook",
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "id,first_name,last_name,lms_user_id\nada,Ada,Lovelace,101\ncharles,Charles,Babbage,\n",
        encoding="utf-8",
    )
    subs = tmp_path / "subs"
    done = collect(zip_path, "--out", subs, "--students", roster, "--format", "moodle")
    assert tag_of(subs / "ada" / A1 / NB1) == "ada"
    assert tag_of(subs / "charles" / A1 / NB1) == "charles"
    # the text file is reported by name, and the exit status says not everything was placed
    assert done.returncode == 1
    assert "notes.txt" in done.stdout and "unknown assignment" in done.stdout


def test_canvas_late_prefix_and_anonymous_names(tmp_path):
    """``late_`` is a flag, never a student's name; anonymous grading drops the name."""
    zip_path = make_zip(
        tmp_path / "anon.zip",
        {
            f"1001_6001_{NB1}": nb_bytes(A1, "a"),
            f"late_1002_6002_{NB1}": nb_bytes(A1, "b"),
            f"late_x7Kq2_6003_{NB1}": nb_bytes(A1, "c"),
            f"hopperg_late_1004_6004_{NB1}": nb_bytes(A1, "d"),
        },
    )
    subs = tmp_path / "subs"
    done = collect(zip_path, "--out", subs, "--format", "canvas")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in subs.iterdir()) == ["1001", "1002", "1004", "x7Kq2"]
    assert not (subs / "1001" / A1 / LATE_FLAG_FILE).exists()
    for sid in ("1002", "x7Kq2", "1004"):
        assert read_late_flag(subs / sid / A1) == "Canvas", sid
    assert read_timestamp(subs / "1002" / A1) == (None, "")  # Canvas gives no time
    assert "grade charges them 1 started day late" in done.stdout

    # a later download where the latest attempt is on time takes the flag away
    again = make_zip(tmp_path / "again.zip", {f"1002_6009_{NB1}": nb_bytes(A1, "b2")})
    assert collect(again, "--out", subs, "--format", "canvas").returncode == 0
    assert tag_of(subs / "1002" / A1 / NB1) == "b2"
    assert read_late_flag(subs / "1002" / A1) == ""


def test_a_flagged_submission_is_charged_one_started_day():
    import datetime as dt

    due = dt.datetime(2026, 9, 14, 23, 59, tzinfo=dt.UTC)
    policy = LatePolicy(percent_per_day=10, max_percent=50, due={A1: due})
    late = policy.flagged(A1, 20, "Canvas")
    assert late.penalty == 2 and late.days == 1 and late.timestamp is None
    assert "Canvas marked this submission late" in late.sentence()
    undated = policy.flagged(A2, 20, "Canvas")
    assert undated.penalty == 0 and "no due date" in undated.sentence()


@pytest.mark.slow  # two real grade runs (9 s)
def test_grade_charges_the_late_flag_and_a_timestamp_overrides_it(tmp_path):
    subs = tmp_path / "subs"
    folder = subs / "ada" / A1
    folder.mkdir(parents=True)
    (folder / NB1).write_bytes(nb_bytes(A1))
    (folder / LATE_FLAG_FILE).write_text("late: Canvas\n", encoding="utf-8")
    config = tmp_path / "grading.toml"
    config.write_text(
        f'[late]\npercent_per_day = 10\n[due]\n"{A1}" = 2026-09-14T23:59:00Z\n',
        encoding="utf-8",
    )

    def grade():
        done = run_cli(
            "grade", subs, "--out", tmp_path / "out", "--gradebook", tmp_path / "gb.db",
            "--config", config, "--assignment", A1, "--workers", "1", "--timeout", "30",
            "--no-sandbox", timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as handle:
            return next(r for r in csv.DictReader(handle) if r["student_id"] == "ada")

    row = grade()
    assert (row["raw_score"], row["late_penalty"], row["score"]) == ("10", "1", "9")
    assert "Canvas marked this submission late" in row["reason"]
    (folder / "timestamp.txt").write_text("2026-09-17 08:00:00 UTC", encoding="utf-8")
    row = grade()  # the real time: 3 started days
    assert (row["late_penalty"], row["score"]) == ("3", "7")


def test_timestamps_are_written_for_the_late_policy(tmp_path):
    zip_path = make_zip(
        tmp_path / "bb.zip",
        {
            f"Softmax_ada_attempt_2026-09-14-21-00-00_{NB1}": nb_bytes(A1, "old"),
            f"Softmax_ada_attempt_2026-09-15-08-30-00_{NB1}": nb_bytes(A1, "new"),
        },
    )
    subs = tmp_path / "subs"
    done = collect(zip_path, "--out", subs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tag_of(subs / "ada" / A1 / NB1) == "new"
    stamp, why = read_timestamp(subs / "ada" / A1)
    assert why == "" and stamp.isoformat() == "2026-09-15T08:30:00+00:00"
    # collecting an older download again never replaces the newer submission
    older = make_zip(
        tmp_path / "older.zip",
        {f"Softmax_ada_attempt_2026-09-14-21-00-00_{NB1}": nb_bytes(A1, "old")},
    )
    done = collect(older, "--out", subs)
    assert done.returncode == 0 and "older than the submission already" in done.stdout
    assert tag_of(subs / "ada" / A1 / NB1) == "new"


def test_custom_pattern(tmp_path):
    zip_path = make_zip(tmp_path / "x.zip", {f"export/s_42/{NB1}": nb_bytes(A1)})
    done = collect(
        zip_path,
        "--out",
        tmp_path / "subs",
        "--pattern",
        r"^export/s_(?P<student>\d+)/(?P<file>[^/]+)$",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "subs" / "42" / A1 / NB1).is_file()
    bad = collect(zip_path, "--out", tmp_path / "subs", "--pattern", "(unclosed")
    assert bad.returncode == 2 and "not a regular expression" in bad.stderr


def _symlink_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"lovelaceada_12345_1_{NB1}", nb_bytes(A1))
        info = zipfile.ZipInfo(f"evil_666_2_{NB1}")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    return path


def _bomb_zip(path: Path) -> Path:
    """A member that declares 10 GB (written by streaming zeros would take too long:
    the header is patched, which is what a hostile zip does)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"lovelaceada_12345_1_{NB1}", nb_bytes(A1))
        info = zipfile.ZipInfo(f"bomb_777_2_{NB1}")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as handle:
            handle.write(b"0" * 1000)
        info.file_size = 10 * 1024**3
    return path


@pytest.mark.parametrize(
    "kind, message",
    [
        ("dotdot", "'..' path"),
        ("absolute", "absolute path"),
        ("symlink", "symbolic link"),
        ("bomb", "zip bomb"),
    ],
)
def test_hostile_zips_are_refused_and_nothing_is_written(tmp_path, kind, message):
    zip_path = tmp_path / "hostile.zip"
    if kind == "dotdot":
        make_zip(
            zip_path,
            {f"lovelaceada_12345_1_{NB1}": nb_bytes(A1), f"../../escape_1_2_{NB1}": nb_bytes(A1)},
        )
    elif kind == "absolute":
        make_zip(
            zip_path,
            {f"lovelaceada_12345_1_{NB1}": nb_bytes(A1), f"/tmp/abs_1_2_{NB1}": nb_bytes(A1)},
        )
    elif kind == "symlink":
        _symlink_zip(zip_path)
    else:
        _bomb_zip(zip_path)
    subs = tmp_path / "inner" / "subs"
    done = collect(zip_path, "--out", subs)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not subs.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["hostile.zip"]


def test_collect_never_writes_through_a_symbolic_link_inside_out(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = elsewhere / "victim.ipynb"
    outside.write_text("untouched", encoding="utf-8")
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    (subs / "ada").symlink_to(elsewhere)  # a student folder
    (subs / "bob" / A1).symlink_to(elsewhere)  # an assignment folder
    (subs / "cyd" / A1).mkdir(parents=True)
    (subs / "cyd" / A1 / NB1).symlink_to(outside)  # the notebook itself
    zip_path = make_zip(
        tmp_path / "s.zip",
        {
            f"lovelaceada_1_11_{NB1}": nb_bytes(A1, "a"),
            f"babbagebob_2_12_{NB1}": nb_bytes(A1, "b"),
            f"charissecyd_late_3_13_{NB1}": nb_bytes(A1, "c"),
            f"hopperdan_4_14_{NB1}": nb_bytes(A1, "d"),
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "id,lms_user_id\nada,1\nbob,2\ncyd,3\ndan,4\n",
        encoding="utf-8",
    )
    done = collect(zip_path, "--out", subs, "--students", roster)
    assert done.returncode == 1
    assert f"{subs / 'ada'} is a symbolic link" in done.stdout
    assert f"{subs / 'bob' / A1} is a symbolic link" in done.stdout
    assert sorted(p.name for p in elsewhere.iterdir()) == ["victim.ipynb"]
    assert outside.read_text(encoding="utf-8") == "untouched"
    # a link in the notebook's place is replaced by the notebook, not followed
    assert not (subs / "cyd" / A1 / NB1).is_symlink() and tag_of(subs / "cyd" / A1 / NB1) == "c"
    assert tag_of(subs / "dan" / A1 / NB1) == "d"  # the rest is placed


def test_a_member_larger_than_declared_is_cut_off(tmp_path, monkeypatch):
    """A member that holds more than its header declares is not placed: the stream is cut
    (Python's zipfile stops at the declared size and then fails the CRC check; our byte
    cap stands behind it) and nothing is written."""
    from autograder import lms

    monkeypatch.setattr(lms, "MAX_MEMBER_BYTES", 4096)
    zip_path = tmp_path / "liar.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"lovelaceada_12345_1_{NB1}", b"x" * 10_000)
    # lower the declared size in both headers so that the declared check passes
    raw = bytearray(zip_path.read_bytes())
    size = (10_000).to_bytes(4, "little")
    small = (100).to_bytes(4, "little")
    assert raw.count(size) >= 2
    raw = raw.replace(size, small)
    zip_path.write_bytes(bytes(raw))
    report = lms.collect(zip_path, tmp_path / "subs", notebooks={A1: NB1})
    assert not report.placed
    # the CRC / size message only: the member is this course's, nothing says "another course"
    assert [m for m, _ in report.unplaced] == [f"lovelaceada_12345_1_{NB1}"]
    why = report.unplaced[0][1]
    assert "more than 4096 bytes" in why or "not what its header declares" in why
    assert "another course" not in report.summary()
    assert not (tmp_path / "subs" / "12345" / A1 / NB1).exists()


def test_bad_input_is_reported_by_name_and_nothing_collected_is_lost(tmp_path):
    subs = tmp_path / "subs"
    good = make_zip(tmp_path / "good.zip", {f"lovelaceada_12345_1_{NB1}": nb_bytes(A1, "kept")})
    assert collect(good, "--out", subs).returncode == 0
    other = make_zip(
        tmp_path / "other.zip",
        {"smithjo_555_1_homework3.ipynb": b"{}", "smithjo_555_2_essay.pdf": b"%PDF"},
    )
    done = collect(other, "--out", subs)
    assert done.returncode == 1
    assert "homework3.ipynb" in done.stdout and "essay.pdf" in done.stdout
    assert "another course" in done.stdout
    assert tag_of(subs / "12345" / A1 / NB1) == "kept"

    twice = make_zip(
        tmp_path / "twice.zip",
        {
            f"a/lovelaceada_12345_1_{NB1}": nb_bytes(A1, "x"),
            f"b/lovelaceada_12345_2_{NB1}": nb_bytes(A1, "y"),
            f"hopper_77_3_{NB2}": nb_bytes(A2),
        },
    )
    done = collect(twice, "--out", subs)
    assert done.returncode == 1
    assert "two files for one student" in done.stdout
    assert tag_of(subs / "12345" / A1 / NB1) == "kept"  # neither overwrote it
    assert (subs / "77" / A2 / NB2).is_file()  # the rest was placed

    unsafe = make_zip(tmp_path / "unsafe.zip", {f"x/ada\u200b_1_{NB1}": nb_bytes(A1)})
    done = run_cli(
        "collect", unsafe, "--out", subs, "--pattern", r"^x/(?P<student>[^/]+)_1_(?P<file>[^/]+)$"
    )
    assert done.returncode == 1 and "not a safe folder name" in done.stdout


def test_not_a_zip_is_one_clear_sentence(tmp_path):
    path = tmp_path / "s.zip"
    path.write_bytes(b"hello")
    done = collect(path, "--out", tmp_path / "subs")
    assert done.returncode == 2 and "not a zip file" in done.stderr
    assert "Traceback" not in done.stderr


ROWS = [
    {
        "student_id": "ada",
        "assignment": A1,
        "score": "7",
        "max_score": "10",
        "status": "graded",
        "feedback": f"feedback/ada/{A1}/{NB1[:-6]}.html",
    },
    {
        "student_id": "ada",
        "assignment": A2,
        "score": "3.5",
        "max_score": "12",
        "status": "graded",
        "feedback": "",
    },
    {
        "student_id": "=cmd",
        "assignment": A1,
        "score": "0",
        "max_score": "10",
        "status": "missing",
        "feedback": "",
    },
    {
        "student_id": "=cmd",
        "assignment": A2,
        "score": "0",
        "max_score": "12",
        "status": "pending",
        "feedback": "",
    },
]


def test_canvas_csv_parses_back(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text(
        "id,first_name,last_name,email,lms_user_id\nada,Ada,Lovelace,ada@example.org,12345\n",
        encoding="utf-8",
    )
    text = canvas_csv(ROWS, read_roster(roster), {A1: "991"})
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == CANVAS_FIXED + [f"{A1} (991)", A2]
    assert table[1] == ["Points Possible", "", "", "", "", "10", "12"]
    by_sis = {row[2]: row for row in table[2:]}
    assert by_sis["ada"] == ["Lovelace, Ada", "12345", "ada", "ada@example.org", "", "7", "3.5"]
    # a formula-looking id is quoted for spreadsheets; missing and pending grades stay blank
    # (Canvas's import leaves an empty cell unchanged)
    assert by_sis["'=cmd"][5:] == ["", ""]
    assert len(table) == 4


def _write_grades(out: Path, rows: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _gradebook(out: Path) -> list[list[str]]:
    text = (out / "export" / "canvas_gradebook.csv").read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_export_leaves_assignments_nobody_handed_in_out(tmp_path):
    """Mid-term: grades.csv has a missing row for every assignment not yet due; importing
    zeros for them would overwrite Canvas's columns, so they are not exported."""
    rows = [
        {**ROWS[0], "status": "graded", "score": "7"},
        {**ROWS[0], "student_id": "bob", "status": "missing", "score": "0", "feedback": ""},
    ]
    for sid in ("ada", "bob"):
        rows.append({**ROWS[1], "student_id": sid, "status": "missing", "score": "0"})
    out = tmp_path / "out"
    _write_grades(out, rows)
    done = run_cli("export", out, timeout=120)
    assert done.returncode == 0, done.stderr
    table = _gradebook(out)
    assert table[0] == CANVAS_FIXED + [A1]  # no column of zeros for A2
    assert {row[2]: row[5:] for row in table[2:]} == {"ada": ["7"], "bob": [""]}

    # --assignment chooses (repeatable); an assignment grades.csv does not have is refused
    done = run_cli("export", out, "--assignment", A2, "--assignment", A1, timeout=120)
    assert done.returncode == 0, done.stderr
    table = _gradebook(out)
    assert table[0] == CANVAS_FIXED + [A2, A1]
    assert {row[2]: row[5:] for row in table[2:]} == {"ada": ["", "7"], "bob": ["", ""]}
    bad = run_cli("export", out, "--assignment", "99-nothing", timeout=120)
    assert bad.returncode == 2 and "99-nothing" in bad.stderr and "not in grades.csv" in bad.stderr

    # nothing graded at all: one sentence, no CSV of blanks
    _write_grades(tmp_path / "empty", rows[1:])
    none = run_cli("export", tmp_path / "empty", timeout=120)
    assert none.returncode == 2 and "nothing to export" in none.stderr


def test_feedback_zip_per_student(tmp_path):
    page = tmp_path / ROWS[0]["feedback"]
    page.parent.mkdir(parents=True)
    page.write_text("<html>ada's feedback</html>", encoding="utf-8")
    made = feedback_zips(tmp_path, ROWS, tmp_path / "export")
    assert [p.name for p in made] == ["ada.zip"]
    with zipfile.ZipFile(made[0]) as archive:
        assert archive.namelist() == [f"{A1}/{NB1[:-6]}.html"]
        assert b"ada's feedback" in archive.read(archive.namelist()[0])


def test_export_command(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROWS[0]))
        writer.writeheader()
        writer.writerows(ROWS)
    done = run_cli("export", out, timeout=120)
    assert done.returncode == 0, done.stderr
    text = (out / "export" / "canvas_gradebook.csv").read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(text)))
    assert table[2][2] == "'=cmd" and table[3][2] == "ada"
    missing = run_cli("export", tmp_path / "nowhere", timeout=120)
    assert missing.returncode == 2 and "run grade first" in missing.stderr
