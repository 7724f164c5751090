"""What the class got wrong: OUT/report.html and OUT/report.csv, written after grading.

Read from what ``grade`` saved (``OUT/grades.csv`` and the per-submission results in
``OUT/.results/``), so it always describes the grades on disk:

* per assignment: how many handed in, the score distribution (a histogram, SVG);
* per test: how many of the students who handed in passed it;
* per hint: a failed test's message ends with `` - <hint>`` when the check names the likely
  mistake (``course.checks.agrees_with(..., hint=...)`` and the built-in shape hints);
  the number of students whose submission triggered each hint, ranked: the class's
  misconceptions.

The page is inert like the feedback pages: a Content-Security-Policy with no script and
no connection, plots inline as SVG rendered by matplotlib here, nothing fetched. No student
id or name appears unless ``names=True`` (``report OUT --names``).
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from . import course_dir
from .safety import csp_meta, shown

REPORT_COLUMNS = ["kind", "assignment", "test", "description", "hint", "students", "of", "points"]


#: The grader's own hint for an answer cell left as the stub (autograder/checker.py).
STUB_HINT = "replace the `raise NotImplementedError()` line of its answer cell with your code"


def _hints_in(source: str) -> set[str]:
    """The likely-mistake hints a piece of test code can attach to a message.

    These are ``hint=`` keyword strings, and the text after the last `` - `` of a message
    literal.
    """
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "hint"
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.add(node.value.value.strip())
        elif (
            isinstance(node, ast.JoinedStr)
            and node.values
            and isinstance(node.values[-1], ast.Constant)
        ):
            tail = str(node.values[-1].value)
            if " - " in tail:
                found.add(tail.rsplit(" - ", 1)[1].strip())
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and " - " in node.value:
            found.add(node.value.rsplit(" - ", 1)[1].strip())
    # a hint is words (not the tail of an expression such as "softmax(z - 30)")
    return {h for h in found if "\n" not in h and re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", h)}


def known_hints(assignment_id: str) -> set[str]:
    """Every hint the tests of an assignment (and course.checks) can give.

    Args:
        assignment_id: the assignment whose source notebook's tests are read.

    Returns:
        The hints' texts (always with :data:`STUB_HINT`).
    """
    hints = {STUB_HINT}
    try:
        hints |= _hints_in((course_dir.ROOT / "course" / "checks.py").read_text("utf-8"))
        nb = json.loads(course_dir.notebook_path(assignment_id).read_text("utf-8"))
    except (OSError, ValueError):
        return hints
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            # IPython magics are not Python: leave those lines out
            source = "\n".join(
                "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
            )
            hints |= _hints_in(source)
    return hints


def hint_of(message: str, hints: set[str]) -> str:
    """The known hint that a line of a failed test's message ends with.

    Args:
        message: the failed test's message.
        hints: the hints that can be given (:func:`known_hints`).

    Returns:
        The longest hint a line ends with (after `` - ``), or "".
    """
    best = ""
    for line in (message or "").splitlines():
        line = line.rstrip()
        for hint in hints:
            if len(hint) > len(best) and line.endswith(" - " + hint):
                best = hint
    return best


def unhinted_label(grade_id: str) -> str:
    """How the ranking names the failures of a test that gave no known hint.

    Args:
        grade_id: the test's grade id.

    Returns:
        ``failed <grade id> (no named hint)``.
    """
    return f"failed {grade_id} (no named hint)"


def error_kind(message: str) -> str:
    """What kind of failure a message without a known hint reports.

    Args:
        message: the failed test's message.

    Returns:
        The exception type it starts with (``AssertionError``), or "other".
    """
    match = re.match(
        r"\s*([A-Za-z_][\w.]{0,60}(?:Error|Exception|Warning|Exit|Interrupt))\b", message or ""
    )
    return match.group(1) if match else "other"


def _results(out: Path, rows: list[dict]) -> dict[tuple[str, str], dict]:
    found = {}
    for r in rows:
        feedback = r.get("feedback") or ""
        parts = Path(feedback).parts
        if len(parts) < 3:
            continue
        path = out / ".results" / parts[1] / f"{r['assignment']}.json"
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            found[(r["student_id"], r["assignment"])] = saved["result"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def analyse(out: Path, rows: list[dict]) -> dict:
    """Counts per assignment, per test and per hint (students in each).

    Args:
        out: the folder ``grade`` wrote (the saved results are under ``out/.results/``).
        rows: the rows of its grades.csv.

    Returns:
        {assignment id: its counts}: students, hand-ins, scores, per test the students who
        passed and the hints (or, with none, the exception types) of the failures, and the
        hinted and unhinted failures to rank.
    """
    results = _results(out, rows)
    hints_of: dict[str, set[str]] = {}
    assignments: dict[str, dict] = {}
    for r in rows:
        a = assignments.setdefault(
            r["assignment"],
            {
                "max_score": r["max_score"],
                "students": 0,
                "handed_in": 0,
                "scores": [],
                "tests": {},
                "hints": defaultdict(set),
                "unhinted": defaultdict(set),
            },
        )
        a["students"] += 1
        result = results.get((r["student_id"], r["assignment"]))
        if r.get("status") in ("missing", "pending") or result is None:
            continue
        a["handed_in"] += 1
        a["scores"].append(float(r["score"]))
        for t in result.get("tests", []):
            test = a["tests"].setdefault(
                t["grade_id"],
                {
                    "description": t.get("description", ""),
                    "points": t.get("points", 0),
                    "passed": set(),
                    "of": set(),
                    "hints": defaultdict(set),
                    "unhinted": defaultdict(set),
                },
            )
            test["of"].add(r["student_id"])
            if t.get("passed"):
                test["passed"].add(r["student_id"])
                continue
            if r["assignment"] not in hints_of:
                hints_of[r["assignment"]] = known_hints(r["assignment"])
            hint = hint_of(t.get("message", ""), hints_of[r["assignment"]])
            if hint:
                test["hints"][hint].add(r["student_id"])
                a["hints"][(t["grade_id"], hint)].add(r["student_id"])
            else:
                test["unhinted"][error_kind(t.get("message", ""))].add(r["student_id"])
                if not (t.get("message") or "").startswith("not run"):  # it did run, and failed
                    a["unhinted"][t["grade_id"]].add(r["student_id"])
    return assignments


def _histogram(scores: list[float], max_score: float, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    matplotlib.rcParams["svg.hashsalt"] = "softmax-course"
    fig, ax = plt.subplots(figsize=(5, 2.4))
    bins = max(1, min(10, int(max_score) or 1))
    ax.hist(scores, bins=bins, range=(0, max_score or 1), color="#4a7ab5", edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.set_title(title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.find("<svg") :]


def _bars(labels: list[str], counts: list[int], title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    matplotlib.rcParams["svg.hashsalt"] = "softmax-course"
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(labels) + 1))
    ax.barh(range(len(labels)), counts, color="#b5584a")
    ax.set_yticks(range(len(labels)), [lab[:50] for lab in labels], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("students")
    ax.set_title(title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.find("<svg") :]


def _ids(ids: set[str], names: bool) -> str:
    return ", ".join(sorted(shown(i) for i in ids)) if names else ""


def render(assignments: dict, names: bool = False) -> tuple[str, str]:
    """The report's page and table.

    Args:
        assignments: what :func:`analyse` counted.
        names: list the students under each test and hint (never for sharing).

    Returns:
        (report.html, report.csv) text.
    """
    esc = html.escape
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS + (["student_ids"] if names else []))
    body = []
    ranked = []
    for aid, a in sorted(assignments.items()):
        for (grade_id, hint), ids in a["hints"].items():
            if hint != STUB_HINT:  # an answer not written yet is no misconception
                ranked.append((len(ids), aid, grade_id, hint, ids))
        # a failure no check names is still a mistake of the class: ranked by its test
        for grade_id, ids in a.get("unhinted", {}).items():
            ranked.append((len(ids), aid, grade_id, unhinted_label(grade_id), ids))
    ranked.sort(key=lambda x: (-x[0], x[1], x[2], x[3]))
    body.append("<h2>Misconceptions of this class, ranked</h2>")
    if ranked:
        body.append(
            "<table><tr><th>students</th><th>assignment</th><th>test</th>"
            "<th>hint</th>" + ("<th>who</th>" if names else "") + "</tr>"
        )
        for count, aid, grade_id, hint, ids in ranked:
            body.append(
                f"<tr><td>{count}</td><td>{esc(aid)}</td><td>{esc(grade_id)}</td>"
                f"<td>{esc(shown(hint))}</td>"
                + (f"<td>{esc(_ids(ids, True))}</td>" if names else "")
                + "</tr>"
            )
        body.append("</table>")
        top = ranked[:12]
        body.append(
            _bars(
                [
                    "no named hint" + f" ({g})" if h == unhinted_label(g) else f"{h[:40]} ({g})"
                    for _, _, g, h, _ in top
                ],
                [c for c, *_ in top],
                "most triggered hints",
            )
        )
    else:
        body.append("<p>No failed test named a likely mistake.</p>")
    for aid, a in sorted(assignments.items()):
        max_score = float(a["max_score"] or 0)
        writer.writerow(
            ["assignment", aid, "", "", "", a["handed_in"], a["students"], a["max_score"]]
            + ([""] if names else [])
        )
        unwritten = set().union(*[ids for (_, h), ids in a["hints"].items() if h == STUB_HINT])
        body.append(
            f"<h2>{esc(aid)}</h2><p>{a['handed_in']} of {a['students']} students "
            f"handed in; maximum {esc(a['max_score'])} points; {len(unwritten)} left "
            "at least one answer not written (the stub).</p>"
        )
        if a["scores"]:
            scores = sorted(a["scores"])
            mean = sum(scores) / len(scores)
            median = (
                scores[len(scores) // 2]
                if len(scores) % 2
                else (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
            )
            body.append(
                f"<p>Mean score {mean:.2f}, median {median:g}, lowest {scores[0]:g}, "
                f"highest {scores[-1]:g}.</p>"
            )
            body.append(_histogram(scores, max_score, f"{aid}: scores"))
            for score, count in sorted(Counter(scores).items()):
                writer.writerow(
                    ["score", aid, "", "", f"{score:g}", count, len(scores), ""]
                    + ([""] if names else [])
                )
        body.append(
            "<table><tr><th>test</th><th>points</th><th>passed</th>"
            "<th>hints of the failures</th></tr>"
        )
        for grade_id, t in a["tests"].items():
            writer.writerow(
                [
                    "test",
                    aid,
                    grade_id,
                    shown(t["description"]),
                    "",
                    len(t["passed"]),
                    len(t["of"]),
                    f"{t['points']:g}",
                ]
                + ([_ids(t["passed"], True)] if names else [])
            )
            hints = sorted(t["hints"].items(), key=lambda kv: (-len(kv[1]), kv[0]))
            for hint, ids in hints:
                writer.writerow(
                    ["hint", aid, grade_id, "", shown(hint), len(ids), len(t["of"]), ""]
                    + ([_ids(ids, True)] if names else [])
                )
            unhinted = sorted(t["unhinted"].items(), key=lambda kv: (-len(kv[1]), kv[0]))
            for kind, ids in unhinted:
                writer.writerow(
                    ["unhinted", aid, grade_id, "", kind, len(ids), len(t["of"]), ""]
                    + ([_ids(ids, True)] if names else [])
                )
            cell = "<br>".join(
                [
                    f"{len(ids)} × {esc(shown(h))}"
                    + (f" ({esc(_ids(ids, True))})" if names else "")
                    for h, ids in hints
                ]
                + [
                    f"{len(ids)} × <i>no named hint: {esc(kind)}</i>"
                    + (f" ({esc(_ids(ids, True))})" if names else "")
                    for kind, ids in unhinted
                ]
            )
            body.append(
                f"<tr><td>{esc(grade_id)}<br><small>{esc(shown(t['description']))}"
                f"</small></td><td>{t['points']:g}</td>"
                f"<td>{len(t['passed'])} of {len(t['of'])}</td><td>{cell}</td></tr>"
            )
        body.append("</table>")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
{csp_meta("")}
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>What the class got wrong</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: auto; padding: 1rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; display: block; overflow-x: auto; }}
td, th {{ overflow-wrap: anywhere; min-width: 3rem; }}
td, th {{ border: 1px solid #8884; padding: .3rem .5rem; text-align: left; vertical-align: top; }}
svg {{ max-width: 100%; height: auto; background: white; }}
@media (prefers-color-scheme: dark) {{ body {{ background: #111; color: #ddd; }} }}
</style></head><body>
<h1>What the class got wrong</h1>
<p>Counts of students, from the grades saved in this folder.{
        "" if names else " No student is named (report OUT --names lists them)."
    }</p>
{chr(10).join(body)}
</body></html>
"""
    return page, buffer.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_report(out: Path, names: bool = False) -> list[Path]:
    """Write OUT/report.html and OUT/report.csv from OUT/grades.csv and the saved results.

    Args:
        out: the folder ``grade`` wrote.
        names: list the students under each test and hint.

    Returns:
        The two files written.
    """
    out = Path(out)
    with open(out / "grades.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    page, table = render(analyse(out, rows), names)
    _write_atomic(out / "report.html", page)
    _write_atomic(out / "report.csv", table)
    return [out / "report.html", out / "report.csv"]
