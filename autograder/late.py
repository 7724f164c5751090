"""Due dates, submission times and the late penalty.

The grading config is a TOML file (``grading.toml`` at the course root, or
``grade --config PATH``)::

    [late]
    percent_per_day = 10    # of the assignment's max score, per started day late
    max_percent = 50        # lateness never takes off more than this
    grace_minutes = 15      # this much after the due date still counts as on time

    [due]
    "01-definition" = 2026-09-14T23:59:00+02:00   # a TOML date-time; no offset means UTC

When a submission was made is read from nbgrader's ``timestamp.txt`` in the
submission folder (``SUBMISSIONS/<student>/<assignment>/timestamp.txt``, as
``nbgrader collect`` leaves it), parsed as nbgrader parses it; a timestamp
without a time zone is UTC, as in nbgrader.

A submission is late by ``timestamp - due - grace``, when that is positive.
Its penalty is ``min(max_percent, percent_per_day * days)`` percent of the
assignment's max score, where ``days`` counts every started day (1 minute late
is 1 day), and its score is ``max(0, raw score - penalty)``, as nbgrader's
export computes ``score`` from ``raw_score`` and ``late_submission_penalty``.
An assignment without a due date, or a submission without a timestamp, is
never late, with one exception: an LMS that only *marks* a submission late
(Canvas's ``late_`` in the file name of its download, which carries no time)
makes ``collect`` write ``late_flag.txt`` beside the notebook; without a
``timestamp.txt`` such a submission is charged as one started day late (the
least a late submission loses), and its feedback and the summary say so. Write
the real submission time into ``timestamp.txt`` for the exact penalty.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

UTC = dt.UTC
TIMESTAMP_FILE = "timestamp.txt"
#: Written by ``collect`` when the LMS marks a submission late but gives no time.
LATE_FLAG_FILE = "late_flag.txt"

#: Longest timestamp file read, in bytes (a bound of collecting, not of grading: see limits).
MAX_TIMESTAMP_BYTES = 200


class ConfigError(Exception):
    """A grading config that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class LatePolicy:
    percent_per_day: float = 10.0
    max_percent: float = 50.0
    grace_minutes: float = 0.0
    #: assignment id -> due date (aware, UTC)
    due: dict = field(default_factory=dict)

    def describe(self) -> str:
        """The policy in words, for feedback pages."""
        grace = f" after a grace period of {self.grace_minutes:g} min" if self.grace_minutes else ""
        return (
            f"{self.percent_per_day:g}% of the max score per started day late{grace}, "
            f"at most {self.max_percent:g}%"
        )

    def penalty(
        self, assignment_id: str, timestamp: dt.datetime | None, max_score: float
    ) -> Lateness:
        """How late a submission is, and what that costs.

        Args:
            assignment_id: Its assignment (whose due date applies).
            timestamp: When it was submitted (None: not known, no penalty).
            max_score: The assignment's points (the penalty is a share of them).

        Returns:
            Its :class:`Lateness`.
        """
        due = self.due.get(assignment_id)
        late = Lateness(timestamp=timestamp, due=due)
        if due is None or timestamp is None:
            return late
        seconds = (timestamp - due).total_seconds() - 60 * self.grace_minutes
        if seconds <= 0:
            return late
        days = math.ceil(seconds / 86400)
        percent = min(self.max_percent, self.percent_per_day * days)
        late.seconds = (timestamp - due).total_seconds()
        late.penalty = round(max_score * percent / 100, 6)
        late.policy = self.describe()
        return late

    def flagged(self, assignment_id: str, max_score: float, lms: str = "the LMS") -> Lateness:
        """The lateness of a submission the LMS marked late without saying when.

        Args:
            assignment_id: the assignment.
            max_score: the assignment's max score.
            lms: who marked it late, for the sentence shown (``Canvas``).

        Returns:
            One started day late (the least a late submission loses) when the assignment has
            a due date, else not late; either way ``problem`` says what was done and why.
        """
        due = self.due.get(assignment_id)
        late = Lateness(due=due)
        if due is None:
            late.problem = (
                f"{lms} marked this submission late, but the assignment has no due date "
                "in the grading config: no late penalty"
            )
            return late
        percent = min(self.max_percent, self.percent_per_day)
        late.seconds = 86400.0
        late.penalty = round(max_score * percent / 100, 6)
        late.policy = self.describe()
        late.problem = (
            f"{lms} marked this submission late without giving its time: charged as 1 "
            f"started day late, {late.penalty:g} points (the least a late submission "
            f"loses; {late.policy})"
        )
        return late


@dataclass
class Lateness:
    timestamp: dt.datetime | None = None
    due: dt.datetime | None = None
    #: seconds after the due date (0 when on time)
    seconds: float = 0.0
    #: points taken off
    penalty: float = 0.0
    policy: str = ""
    #: why the timestamp could not be used, if it could not
    problem: str = ""

    def to_dict(self) -> dict:
        """The lateness as JSON-ready values (times as ISO strings, ``Z`` for UTC)."""
        return {
            "timestamp": _iso(self.timestamp),
            "due": _iso(self.due),
            "seconds": self.seconds,
            "penalty": self.penalty,
            "policy": self.policy,
            "problem": self.problem,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Lateness:
        """A :class:`Lateness` from its saved dict.

        Args:
            data: What ``to_dict`` gave (None or {}: on time, nothing known).

        Returns:
            The lateness.
        """
        data = data or {}
        return cls(
            _parse_iso(data.get("timestamp")),
            _parse_iso(data.get("due")),
            float(data.get("seconds", 0.0)),
            float(data.get("penalty", 0.0)),
            data.get("policy", ""),
            data.get("problem", ""),
        )

    @property
    def days(self) -> float:
        """Days late (a fraction; 0 when on time)."""
        return self.seconds / 86400

    def sentence(self) -> str:
        """What the student reads on the feedback page (empty when there is nothing to say)."""
        if self.problem:
            return self.problem
        if not self.seconds or self.timestamp is None or self.due is None:
            if self.timestamp and self.due:
                return f"Submitted {_shown(self.timestamp)}, on time (due {_shown(self.due)})."
            return ""
        return (
            f"Submitted {_shown(self.timestamp)}, {duration(self.seconds)} after the due "
            f"date ({_shown(self.due)}): late penalty {self.penalty:g} points "
            f"({self.policy})."
        )


def duration(seconds: float) -> str:
    """``1 day 3 h 4 min`` (rounded up to the minute).

    Args:
        seconds: The duration.

    Returns:
        The duration in words.
    """
    minutes = math.ceil(seconds / 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes or not parts else []
    return " ".join(parts)


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def _parse_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _shown(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _as_utc(value, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, dt.date):
        # a bare date: due at the end of that day, UTC
        return dt.datetime.combine(value, dt.time(23, 59, 59), tzinfo=UTC)
    raise ConfigError(
        f"{where} should be a TOML date-time such as 2026-09-14T23:59:00Z, got {value!r}"
    )


def load_policy(path: Path | None, assignments) -> tuple[LatePolicy, list[str]]:
    """The late policy and due dates in ``path``, and notes for the summary.

    Args:
        path: The grading.toml file (the defaults when it is None or missing).
        assignments: The course's assignment ids (a due date for another is ignored).

    Returns:
        (the policy, notes of what was ignored).

    Raises:
        ConfigError: The file cannot be read or holds something it should not.
    """
    if path is None or not Path(path).exists():
        return LatePolicy(), []
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    unknown_tables = sorted(set(data) - {"late", "due"})
    if unknown_tables:
        raise ConfigError(
            f"{path}: unknown section(s) {', '.join(unknown_tables)} (expected [late] and [due])"
        )
    late, due = data.get("late", {}), data.get("due", {})
    if not isinstance(late, dict) or not isinstance(due, dict):
        raise ConfigError(f"{path}: [late] and [due] must be tables")
    values = {}
    for key, default in (("percent_per_day", 10.0), ("max_percent", 50.0), ("grace_minutes", 0.0)):
        value = late.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value < 0
            or (key != "grace_minutes" and value > 100)
        ):
            raise ConfigError(
                f"{path}: late.{key} should be a number"
                + (" from 0 to 100" if key != "grace_minutes" else " >= 0")
                + f", got {value!r}"
            )
        values[key] = float(value)
    extra = sorted(set(late) - set(values))
    if extra:
        raise ConfigError(f"{path}: unknown setting(s) late.{', late.'.join(extra)}")
    notes, dates = [], {}
    for aid, value in due.items():
        when = _as_utc(value, f'{path}: due."{aid}"')
        if aid not in assignments:
            notes.append(f"{path.name}: due date for unknown assignment '{aid}' (ignored)")
            continue
        dates[aid] = when
    return LatePolicy(due=dates, **values), notes


def read_timestamp(folder: Path) -> tuple[dt.datetime | None, str]:
    """The submission time in ``folder/timestamp.txt`` (UTC).

    Args:
        folder: The submission's folder.

    Returns:
        (the time, ""), or (None, why there is none).
    """
    import dateutil.parser
    from nbgrader.utils import parse_utc

    path = Path(folder) / TIMESTAMP_FILE
    if not path.is_file() or path.is_symlink():
        return None, ""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_TIMESTAMP_BYTES + 1)
        if len(raw) > MAX_TIMESTAMP_BYTES:
            raise ValueError(f"longer than {MAX_TIMESTAMP_BYTES} bytes")
        text = raw.decode("utf-8").strip()
        if not text:
            raise ValueError("empty")
        if re.fullmatch(r".+ [+-]\d{4}", text):
            # nbgrader's parser reads a numeric zone after a space as seconds: dateutil does not
            value = dateutil.parser.parse(text).astimezone(UTC).replace(tzinfo=None)
        else:
            value = parse_utc(text)
    except (OSError, ValueError, OverflowError, UnicodeDecodeError) as exc:
        return None, (
            f"{TIMESTAMP_FILE} could not be read ({exc}); the submission is not counted late"
        )
    return value.replace(tzinfo=UTC), ""


def read_late_flag(folder: Path) -> str:
    """Who marked the submission in ``folder`` late (``folder/late_flag.txt``), or "".

    Args:
        folder: a submission folder.

    Returns:
        The LMS's name written by ``collect`` (``Canvas``), "the LMS" when the file names
        none, or "" when there is no such regular file.
    """
    path = Path(folder) / LATE_FLAG_FILE
    if not path.is_file() or path.is_symlink():
        return ""
    try:
        with open(path, "rb") as handle:
            text = handle.read(200).decode("utf-8", "replace")
    except OSError:
        return "the LMS"
    first = text.strip().splitlines()[0] if text.strip() else ""
    name = first.removeprefix("late:").strip() if first.startswith("late:") else ""
    return name if name.isprintable() and 0 < len(name) <= 40 else "the LMS"
