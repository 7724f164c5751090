"""The LMS round trip: collect an LMS's "download all submissions" zip, export grades back.

``collect ZIP --out SUBMISSIONS`` unpacks the zip an LMS gives an instructor into the
``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb`` layout that ``grade`` reads. Each
member's path is matched against patterns (regular expressions with named groups, as
nbgrader's ``FileNameCollectorPlugin.named_regexp`` in ``nbgrader zip_collect``):

``student``
    the LMS's id of the student (Canvas user id, Moodle participant id) or the student id;
``name``
    the student's name as the LMS writes it (used with a roster when there is no id match);
``file``
    the file name the student uploaded (it names the assignment);
``late``, ``attempt``, ``timestamp``
    optional: Canvas's ``late`` marker, an attempt number, a submission time.

Built-in formats:

* Canvas: ``lastnamefirstname_[late_]<user id>_<submission id>_<file>``, with Canvas's
  ``-1``, ``-2`` ... suffix on resubmitted files (the highest is the latest attempt);
* Moodle: ``Full Name_<participant id>_assignsubmission_file_/<file>`` (or without the
  folder: ``..._assignsubmission_file_<file>``);
* Blackboard (nbgrader's documented example):
  ``<assignment>_<user>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>``.

The zip is checked as a whole before anything is written: a member with ``..``, an
absolute path, a symbolic link or a declared size beyond the limits refuses the zip, and
every member is streamed with a byte cap (a zip can lie about its sizes). A notebook is
written atomically under the released notebook's name, with ``timestamp.txt`` when the
format carries a submission time (the file :mod:`autograder.late` reads), so a failed
collect never loses what an earlier one placed.

``export OUT`` writes what goes back: a gradebook CSV in Canvas's import format and one
zip of feedback pages per student.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import stat
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import course_dir
from .late import TIMESTAMP_FILE, read_timestamp
from .roster import Roster, RosterError, folder_name, read_roster, student_id
from .safety import shown

#: Largest notebook a member may hold (declared and streamed), and the whole zip's total.
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
CHUNK = 1024 * 1024

FORMATS: dict[str, str] = {
    "canvas": r"^(?:.*/)?(?P<name>[^/_]+)_(?:(?P<late>late)_)?(?P<student>\d+)_\d+_"
    r"(?P<file>[^/]+)$",
    "moodle": r"^(?:.*/)?(?P<name>[^/_]+)_(?P<student>\d+)_assignsubmission_file_/?"
    r"(?P<file>[^/]+)$",
    "blackboard": r"^(?:.*/)?[^/]*_(?P<student>[^/_]+)_attempt_"
    r"(?P<timestamp>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_(?P<file>[^/]+)$",
}


class CollectError(Exception):
    """A zip (or option) that cannot be collected at all; nothing was written."""


@dataclass
class Placed:
    student: str
    assignment: str
    member: str
    late: bool = False
    attempt: int = 0
    timestamp: dt.datetime | None = None


@dataclass
class CollectReport:
    placed: list[Placed] = field(default_factory=list)
    #: (member, why it was not placed)
    unplaced: list[tuple[str, str]] = field(default_factory=list)
    #: older attempts left out in favour of a later one
    superseded: list[str] = field(default_factory=list)

    def miss(self, member: str, why: str) -> None:
        """Record a member that was not placed, and why."""
        self.unplaced.append((member, why))

    @property
    def complete(self) -> bool:
        return not self.unplaced

    def summary(self) -> str:
        lines = [f"Collected {len(self.placed)} submission(s)."]
        for p in self.placed:
            extra = " (late)" if p.late else ""
            lines.append(f"  {shown(p.student)}/{p.assignment}  <- {shown(p.member)}{extra}")
        if self.superseded:
            lines.append(f"Older attempts left out ({len(self.superseded)}):")
            lines += [f"  {shown(m)}" for m in self.superseded]
        if self.unplaced:
            lines.append(f"NOT placed ({len(self.unplaced)}):")
            lines += [f"  {shown(m)}: {why}" for m, why in self.unplaced]
        return "\n".join(lines) + "\n"


def course_notebooks(folder: Path | None = None) -> dict[str, str]:
    """{assignment id: released notebook file name} for this course."""
    folder = folder or course_dir.RELEASED
    out = {}
    for aid in course_dir.assignment_ids(folder):
        try:
            out[aid] = course_dir.notebook_path(aid, folder).name
        except FileNotFoundError:
            continue
    return out


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", text)


def _assignment_of(file_name: str, notebooks: dict[str, str]) -> tuple[str | None, int]:
    """(assignment id, attempt number from a ``-N`` / `` (N)`` suffix) of an uploaded file."""
    stem, suffix = os.path.splitext(file_name)
    if suffix.lower() != ".ipynb":
        return None, 0
    attempt = 0
    match = re.fullmatch(r"(.*?)(?:-(\d+)| \((\d+)\))", stem)
    candidates = [stem]
    if match:
        candidates.append(match.group(1))
    for i, candidate in enumerate(candidates):
        for aid, name in notebooks.items():
            if _key(candidate) in (_key(Path(name).stem), _key(aid)):
                if i == 1 and match is not None:
                    attempt = int(match.group(2) or match.group(3))
                return aid, attempt
    return None, 0


def _check_zip(archive: zipfile.ZipFile, zip_path: Path) -> None:
    """Refuse the whole zip when any member is hostile (before anything is written)."""
    total = 0
    for info in archive.infolist():
        name = info.filename
        parts = re.split(r"[/\\]", name)
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            raise CollectError(
                f"{zip_path}: member {shown(name)!r} has an absolute path: "
                "refused (nothing was written)"
            )
        if ".." in parts:
            raise CollectError(
                f"{zip_path}: member {shown(name)!r} has a '..' path that "
                "points outside the target: refused (nothing was written)"
            )
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise CollectError(
                f"{zip_path}: member {shown(name)!r} is a symbolic link: "
                "refused (nothing was written)"
            )
        if info.is_dir():
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            raise CollectError(
                f"{zip_path}: member {shown(name)!r} declares "
                f"{info.file_size} bytes uncompressed, more than the "
                f"{MAX_MEMBER_BYTES} a notebook may have (a zip bomb?): "
                "refused (nothing was written)"
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise CollectError(
                f"{zip_path}: the members declare more than {MAX_TOTAL_BYTES} "
                "bytes in all: refused (nothing was written)"
            )


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, zip_path: Path) -> bytes:
    data = bytearray()
    with archive.open(info) as handle:
        while chunk := handle.read(CHUNK):
            data += chunk
            if len(data) > MAX_MEMBER_BYTES:
                raise CollectError(
                    f"{zip_path}: member {shown(info.filename)!r} unpacks to "
                    f"more than {MAX_MEMBER_BYTES} bytes although it declares "
                    f"{info.file_size} (a zip bomb?): refused"
                )
    return bytes(data)


def _parse_time(text: str) -> dt.datetime | None:
    for fmt in ("%Y-%m-%d-%H-%M-%S", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    try:
        import dateutil.parser

        value = dateutil.parser.parse(text)
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".collect-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


def _lookup(roster: Roster | None, match: dict) -> tuple[str | None, str]:
    """The student id of a matched member, or (None, why not)."""
    lms_id = match.get("student") or ""
    name = match.get("name") or ""
    if roster is None:
        raw = lms_id or name
        sid, why = student_id(raw)
        if sid is None or folder_name(sid) != sid:
            return None, (
                f"the student id {shown(raw)!r} is not a safe folder name"
                + (f" ({why})" if why else "")
                + ": give a roster (--students) "
                "that maps it"
            )
        return sid, ""
    for student in roster.students.values():
        if lms_id and student.lms_user_id and student.lms_user_id == lms_id:
            return student.id, ""
    for student in roster.students.values():
        if lms_id and student.id == lms_id:
            return student.id, ""
    if name:
        wanted = _key(name)
        hits = [
            s.id
            for s in roster.students.values()
            if wanted
            and wanted
            in (
                _key((s.last_name or "") + (s.first_name or "")),
                _key((s.first_name or "") + (s.last_name or "")),
            )
        ]
        if len(hits) == 1:
            return hits[0], ""
        if len(hits) > 1:
            return None, f"the name {shown(name)!r} fits {len(hits)} students of the roster"
    return None, f"LMS id {shown(lms_id)!r} / name {shown(name)!r} is not on the roster"


def collect(
    zip_path: Path,
    out: Path,
    patterns: list[str] | None = None,
    roster_file: Path | None = None,
    assignment: str | None = None,
    notebooks: dict[str, str] | None = None,
) -> CollectReport:
    """Unpack an LMS zip into ``out/<student>/<assignment>/<notebook>``.

    Raises:
        CollectError: the zip, a pattern or the roster cannot be used (nothing written).
    """
    zip_path, out = Path(zip_path), Path(out)
    notebooks = notebooks if notebooks is not None else course_notebooks()
    if assignment is not None and assignment not in notebooks:
        raise CollectError(
            f"--assignment {shown(assignment)}: not an assignment of this "
            f"course ({', '.join(notebooks)})"
        )
    try:
        compiled = [re.compile(p) for p in (patterns or FORMATS.values())]
    except re.error as exc:
        raise CollectError(f"--pattern: not a regular expression ({exc})") from None
    for regex in compiled:
        if "file" not in regex.groupindex or not {"student", "name"} & set(regex.groupindex):
            raise CollectError(
                f"--pattern {regex.pattern!r}: needs the named groups "
                "(?P<file>...) and (?P<student>...) or (?P<name>...)"
            )
    try:
        roster = read_roster(roster_file) if roster_file is not None else None
    except RosterError as exc:
        raise CollectError(str(exc)) from None
    if not zip_path.is_file():
        raise CollectError(f"{zip_path}: no such file")
    if os.path.lexists(out) and (out.is_symlink() or not out.is_dir()):
        raise CollectError(f"--out {out}: exists and is not a folder")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CollectError(f"{zip_path}: not a zip file ({exc})") from None

    report = CollectReport()
    with archive:
        _check_zip(archive, zip_path)
        chosen: dict[tuple[str, str], list[tuple[tuple, zipfile.ZipInfo, Placed]]] = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")
            base = os.path.basename(name)
            if base == ".DS_Store" or base.startswith("._") or name.startswith("__MACOSX/"):
                continue  # a Mac's zip metadata, never a submission
            match = next((m for m in (r.match(name) for r in compiled) if m), None)
            if match is None:
                report.miss(name, "the file name fits no pattern")
                continue
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            aid, attempt = _assignment_of(groups["file"], notebooks)
            if aid is None and assignment is not None and groups["file"].endswith(".ipynb"):
                aid = assignment
            if aid is None:
                report.miss(
                    name,
                    f"unknown assignment: {shown(groups['file'])!r} "
                    "names no notebook of this course",
                )
                continue
            if assignment is not None and aid != assignment:
                report.miss(name, f"belongs to {aid}, not to --assignment {assignment}")
                continue
            sid, why = _lookup(roster, groups)
            if sid is None:
                report.miss(name, why)
                continue
            if "attempt" in groups and groups["attempt"].isdigit():
                attempt = int(groups["attempt"])
            stamp = _parse_time(groups["timestamp"]) if "timestamp" in groups else None
            placed = Placed(sid, aid, name, late="late" in groups, attempt=attempt, timestamp=stamp)
            order = (stamp or dt.datetime.min.replace(tzinfo=dt.UTC), attempt)
            chosen.setdefault((sid, aid), []).append((order, info, placed))

        for (sid, aid), entries in sorted(chosen.items()):
            entries.sort(key=lambda e: e[0])
            latest = entries[-1]
            if len(entries) > 1 and entries[-2][0] == latest[0]:
                names = ", ".join(shown(e[2].member) for e in entries if e[0] == latest[0])
                for e in entries:
                    report.miss(
                        e[2].member,
                        f"two files for one student and "
                        f"assignment ({shown(sid)}/{aid}: {names}), and "
                        "neither is the later attempt",
                    )
                continue
            report.superseded += [e[2].member for e in entries[:-1]]
            try:
                data = _read_capped(archive, latest[1], zip_path)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                report.miss(latest[2].member, f"cannot be read from the zip ({exc})")
                continue
            except CollectError as exc:
                report.miss(latest[2].member, str(exc))
                continue
            target = out / sid / aid
            existing, _ = read_timestamp(target)
            if (
                existing is not None
                and latest[2].timestamp is not None
                and latest[2].timestamp < existing
            ):
                report.superseded.append(
                    f"{latest[2].member} (older than the submission already in {target})"
                )
                continue
            try:
                _write_atomic(target / notebooks[aid], data)
                stamp = latest[2].timestamp
                if stamp is not None:
                    text = stamp.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
                    _write_atomic(target / TIMESTAMP_FILE, text.encode())
            except OSError as exc:
                report.miss(latest[2].member, f"cannot write {target}: {exc.strerror or exc}")
                continue
            report.placed.append(latest[2])
    if not report.placed and report.unplaced:
        report.miss(
            str(zip_path),
            "no member is a submission of this course's "
            "assignments (" + ", ".join(notebooks) + "): a zip from "
            "another course?",
        )
    return report


# -- export ------------------------------------------------------------------------------

CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = shown(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def canvas_csv(
    rows: list[dict], roster: Roster | None, canvas_ids: dict[str, str] | None = None
) -> str:
    """Canvas's gradebook import CSV for the rows of grades.csv.

    Columns: Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment
    (``name (canvas assignment id)`` when the id is known, as Canvas's export writes them);
    the first data row is "Points Possible". A grade not yet known (pending) is left blank.
    """
    canvas_ids = canvas_ids or {}
    assignments = sorted({r["assignment"] for r in rows})
    max_scores = {r["assignment"]: r["max_score"] for r in rows}
    headers = [f"{a} ({canvas_ids[a]})" if a in canvas_ids else a for a in assignments]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CANVAS_FIXED + headers)
    writer.writerow(["Points Possible", "", "", "", ""] + [max_scores[a] for a in assignments])
    students: dict[str, dict[str, str]] = {}
    for r in rows:
        students.setdefault(r["student_id"], {})[r["assignment"]] = (
            "" if r.get("status") == "pending" else r["score"]
        )
    for sid in sorted(students):
        info = roster.students.get(sid) if roster is not None else None
        name = sid
        if info is not None and (info.last_name or info.first_name):
            name = ", ".join(x for x in (info.last_name, info.first_name) if x)
        writer.writerow(
            [
                _cell(name),
                _cell(info.lms_user_id or "" if info else ""),
                _cell(sid),
                _cell(info.email or "" if info else ""),
                "",
            ]
            + [students[sid].get(a, "") for a in assignments]
        )
    return buffer.getvalue()


def feedback_zips(out: Path, rows: list[dict], target: Path) -> list[Path]:
    """One zip per student (``target/<folder>.zip``) with their feedback pages."""
    made = []
    pages: dict[str, list[Path]] = {}
    for r in rows:
        if r.get("feedback"):
            page = out / r["feedback"]
            if page.is_file() and not page.is_symlink():
                pages.setdefault(r["student_id"], []).append(Path(r["feedback"]))
    target.mkdir(parents=True, exist_ok=True)
    for sid, paths in sorted(pages.items()):
        path = target / f"{folder_name(sid)}.zip"
        fd, tmp = tempfile.mkstemp(dir=target, prefix=".export-", suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                for rel in sorted(paths):
                    # feedback/<folder>/<assignment>/<page>.html -> <assignment>/<page>.html
                    archive.write(out / rel, "/".join(rel.parts[2:]))
            os.replace(tmp, path)
        except BaseException:
            with _suppress():
                os.unlink(tmp)
            raise
        made.append(path)
    return made


def read_grades(out: Path) -> list[dict]:
    """The rows of ``OUT/grades.csv`` (a clear ``CollectError`` when it is missing or unreadable)."""
    path = Path(out) / "grades.csv"
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise CollectError(f"{path}: no such file (run grade first)") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CollectError(f"{path}: cannot be read ({exc})") from None
    need = {"student_id", "assignment", "score", "max_score"}
    if rows and not need <= set(rows[0]):
        raise CollectError(f"{path}: lacks the columns {', '.join(sorted(need - set(rows[0])))}")
    return rows


def export(
    out: Path, roster_file: Path | None = None, canvas_ids: dict[str, str] | None = None
) -> list[Path]:
    """Write OUT/export/canvas_gradebook.csv and OUT/export/feedback/<student>.zip."""
    out = Path(out)
    rows = read_grades(out)
    try:
        roster = read_roster(roster_file) if roster_file is not None else None
    except RosterError as exc:
        raise CollectError(str(exc)) from None
    target = out / "export"
    target.mkdir(parents=True, exist_ok=True)
    gradebook = target / "canvas_gradebook.csv"
    _write_atomic(gradebook, canvas_csv(rows, roster, canvas_ids).encode("utf-8"))
    return [gradebook, *feedback_zips(out, rows, target / "feedback")]
