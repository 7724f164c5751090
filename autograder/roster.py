r"""Who is in the class: student ids, their safe folder names, and the roster file.

A student id is whatever name the submission folder (or the roster) carries,
made canonical and checked:

* it is normalised to Unicode NFC (``zoë`` typed on a Mac and on Linux is one id);
* it is accepted when it is printable text (spaces and any script allowed), at
  most :data:`MAX_ID_LENGTH` characters, and has no path separator (``/``, ``\``),
  no control or format character, no leading dot and no white space at either end;
* anything else cannot be made safe without guessing, and is refused with the reason.

Output folders (feedback pages, saved results) use a *safe folder name*: the id
itself when it is plain ASCII (letters, digits, ``. _ @ + -``), otherwise an ASCII
rendering of it followed by ``~`` and a hash of the id (``zoë`` -> ``zoe~5c1b0e7a``).
``~`` never occurs in a plain id, so two ids never share a folder. Every output
(grades.csv, summary.txt, the gradebook, the feedback page itself) shows the real id.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .safety import shown

MAX_ID_LENGTH = 100
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class RosterError(Exception):
    """A roster file that cannot be used; the message names the file and the problem."""


def student_id(raw: str) -> tuple[str | None, str]:
    """``(id, "")`` for an acceptable name, or ``(None, why it is refused)``."""
    text = unicodedata.normalize("NFC", raw)
    if not text:
        return None, "the id is empty"
    if text != text.strip():
        return None, "the id starts or ends with white space"
    if text.startswith("."):
        return None, "the id starts with a dot"
    if "/" in text or "\\" in text:
        return None, "the id contains a path separator"
    bad = sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if unicodedata.category(c) in _UNSAFE_CATEGORIES
            or (unicodedata.category(c) == "Zs" and c != " ")
        }
    )
    if bad:
        return None, f"the id contains control or invisible characters ({', '.join(bad)})"
    if len(text) > MAX_ID_LENGTH:
        return None, f"the id is longer than {MAX_ID_LENGTH} characters"
    return text, ""


def folder_name(sid: str) -> str:
    """The safe folder name that stores an accepted id's outputs."""
    if _PLAIN.match(sid) and len(sid) <= MAX_ID_LENGTH:
        return sid
    ascii_text = unicodedata.normalize("NFKD", sid).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9._@+-]+", "_", ascii_text).strip("._-")[:40] or "id"
    digest = hashlib.sha256(sid.encode("utf-8")).hexdigest()[:8]
    return f"{slug}~{digest}"


@dataclass
class Student:
    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None

    @property
    def folder(self) -> str:
        return folder_name(self.id)


@dataclass
class Roster:
    students: dict[str, Student] = field(default_factory=dict)
    #: Rows that were refused, with the reason (for the summary).
    refused: list[str] = field(default_factory=list)


def read_roster(path: Path) -> Roster:
    """Read a class list in nbgrader's ``db student import`` format.

    A CSV file with a header row; the ``id`` column is required, ``first_name``,
    ``last_name``, ``email`` and ``lms_user_id`` are optional, other columns are ignored.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise RosterError(f"{path}: cannot be read ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "id" not in [f.strip() for f in reader.fieldnames]:
        raise RosterError(
            f"{path}: the first line must be a header with an 'id' column "
            "(nbgrader's student import format: id,first_name,last_name,email)"
        )
    roster = Roster()
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        raw = row.get("id") or ""
        if not raw:
            if any(v for v in row.values() if isinstance(v, str)):
                roster.refused.append(f"{path.name} line {line}: no id (ignored)")
            continue
        sid, why = student_id(raw)
        if sid is None:
            roster.refused.append(f"{path.name} line {line}: '{shown(raw)}': {why} (ignored)")
            continue
        if sid in roster.students:
            roster.refused.append(
                f"{path.name} line {line}: '{sid}' is listed twice (the first row is used)"
            )
            continue
        roster.students[sid] = Student(
            sid, *(row.get(k) or None for k in ("first_name", "last_name", "email", "lms_user_id"))
        )
    return roster
