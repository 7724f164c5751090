"""`grade`: grade a whole class, in parallel, resumably, into one table.

SUBMISSIONS is laid out as nbgrader's submitted folder::

    SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb   (+ timestamp.txt)

For every submission the result is saved as soon as it is known (under
``OUT/.results/<student folder>/``), keyed by everything that can change it
(:func:`result_key`: the grading code, the limits, the source, the submission,
its lateness), so a run that is interrupted and started again grades only what
is left, and anything changed is graded afresh; ``force`` regrades all.

``OUT/grades.csv`` has one row per student of the class and assignment: the
class is the roster (``--students``) or else the gradebook's students plus
everyone who handed something in; a student with no submission gets a
"missing" row. With a selection (``--assignment`` / ``--student``) only the
selected rows are graded; the others keep their last saved result.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import course_dir
from .checker import grade_notebook
from .cluster import Cluster, ClusterError
from .feedback import autograded_notebook, render_failure, render_feedback
from .fingerprint import grader_fingerprint
from .late import (
    TIMESTAMP_FILE,
    ConfigError,
    Lateness,
    duration,
    load_policy,
    read_late_flag,
    read_timestamp,
)
from .markers import MarkerError
from .notebooks import MAX_NOTEBOOK_BYTES, load_assignment
from .outdir import CannotWrite, OutputBusy, OutputLock, remove_stray_temp_files, write_error
from .plan import read_or_fail
from .results import NotebookResult
from .roster import RosterError, folder_name, read_roster, student_id
from .safety import NotARegularFile, clean_text, inside, read_regular_file, refusal, shown
from .sandbox import Limits, Sandbox

#: Columns of grades.csv: nbgrader export's names where they exist.
COLUMNS = [
    "student_id",
    "assignment",
    "notebook",
    "score",
    "max_score",
    "status",
    "reason",
    "raw_score",
    "late_penalty",
    "timestamp",
    "duedate",
    "days_late",
    "feedback",
]


@dataclass
class Job:
    student_id: str
    assignment_id: str
    path: Path | None  # None: no notebook in the folder
    key: str = ""
    note: str = ""
    late: Lateness = field(default_factory=Lateness)
    #: The submission folder (where timestamp.txt is)
    folder_path: Path | None = None

    @property
    def folder(self) -> str:
        """The student's safe folder name (under feedback/ and .results/)."""
        return folder_name(self.student_id)


def _write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file whole or not at all, with the permissions the umask allows.

    Text is made UTF-8-safe first.
    """
    if isinstance(data, str):
        data = clean_text(data).encode("utf-8")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 whatever the umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise CannotWrite(write_error(exc, path.parent)) from None
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Skipped(str):
    """A note about a submission that was not graded (a refused or unplaceable folder).

    Any such note makes ``grade`` exit with status 1: not everything handed in was graded.
    """


def discover(submissions: Path, assignments: dict) -> tuple[dict, list[str]]:
    """Every (student, assignment) submission folder, and what is wrong about the layout.

    Args:
        submissions: the submissions folder (``<student>/<assignment>/<notebook>``).
        assignments: {assignment id: Assignment} of the course.

    Returns:
        ({(student_id, assignment_id): Job}, notes); student ids are canonical (see
        :mod:`autograder.roster`); the jobs' keys are filled in later. A job's note names
        the notebooks of its folder that are not graded, or those found when none has the
        released name.
    """
    found: dict[tuple[str, str], Job] = {}
    notes: list[str] = []
    owners: dict[str, Path] = {}
    for student_dir in sorted(submissions.iterdir()):
        refused = _refused_folder(student_dir, submissions)
        if refused:
            notes.append(Skipped(f"{shown(student_dir)}: {refused}"))
            continue
        if not student_dir.is_dir():
            notes.append(f"{student_dir}: not a student folder (ignored)")
            continue
        sid, why = student_id(student_dir.name)
        if sid is None:
            notes.append(
                Skipped(
                    f"{submissions}/{shown(student_dir.name)}: not a usable "
                    f"student id: {why} (ignored)"
                )
            )
            continue
        if sid in owners:
            notes.append(Skipped(f"{student_dir}: the same student id as {owners[sid]} (ignored)"))
            continue
        owners[sid] = student_dir
        for assignment_dir in sorted(student_dir.iterdir()):
            refused = _refused_folder(assignment_dir, submissions)
            if refused:
                notes.append(Skipped(f"{shown(assignment_dir)}: {refused}"))
                continue
            if not assignment_dir.is_dir():
                if assignment_dir.name != TIMESTAMP_FILE:
                    notes.append(f"{assignment_dir}: not an assignment folder (ignored)")
                continue
            aid = assignment_dir.name
            if aid not in assignments:
                notes.append(Skipped(f"{assignment_dir}: unknown assignment '{aid}' (ignored)"))
                continue
            path, note = _pick_notebook(assignment_dir, assignments[aid].notebook_name)
            found[(sid, aid)] = Job(sid, aid, path, note=note, folder_path=assignment_dir)
    return found, notes


def _pick_notebook(folder: Path, expected_name: str) -> tuple[Path | None, str]:
    """The notebook to grade in a submission folder, and what to say about the others.

    The notebook under the released name is graded (whatever it is: reading it says why it
    cannot be graded) and every other notebook in the folder is named as not graded; without
    it, a single other notebook is graded under a note, and several are named and none is
    guessed at.
    """
    expected = folder / expected_name
    names = sorted(p.name for p in folder.glob("*.ipynb") if p.name != expected_name)
    listed = ", ".join(shown(n) for n in names)
    if os.path.lexists(expected):
        note = (
            f"not graded, also in the folder: {listed} (only {expected_name} is)" if names else ""
        )
        return expected, note
    usable = sorted(p for p in folder.glob("*.ipynb") if refusal(p) is None)
    if len(usable) == 1:
        note = f"graded {shown(usable[0].name)}: the notebook should be named {expected_name}"
        rest = [shown(n) for n in names if n != usable[0].name]
        if rest:
            note += f" (the folder also holds {', '.join(rest)})"
        return usable[0], note
    if names:
        return None, f"it holds {listed}: rename the one to be graded {expected_name}"
    return None, ""


def result_key(
    job: Job, fingerprint: str, limits: Limits, sandboxed: bool, source_hash: str
) -> str:
    """Everything that can change this submission's grade or feedback page, hashed.

    Args:
        job: the submission (its file, note, lateness and student).
        fingerprint: the grader's fingerprint (:mod:`autograder.fingerprint`).
        limits: the limits it is graded under.
        sandboxed: whether student code runs in the sandbox.
        source_hash: the SHA-256 of the assignment's source notebook.

    Returns:
        The key, hex.
    """
    digest = hashlib.sha256()
    parts = {
        "grader": fingerprint,
        "limits": dataclasses.asdict(limits),
        "sandbox": sandboxed,
        "source": source_hash,
        "name": job.path.name if job.path else None,
        "note": job.note,
        "late": job.late.to_dict(),
        "student": job.student_id,
    }
    digest.update(json.dumps(parts, sort_keys=True).encode())
    if job.path is not None:
        digest.update(_content_digest(job.path))
    return digest.hexdigest()


def _refused_folder(path: Path, submissions: Path) -> str:
    """Why a folder of the submissions tree is refused ("" if it is fine).

    A symbolic link (to a classmate's folder, to the solutions...) or anything resolving
    outside the tree is refused.
    """
    if path.is_symlink():
        return "a symbolic link, refused (submissions must be real folders and files)"
    if path.is_dir() and not inside(path, submissions):
        return "resolves outside the submissions folder, refused"
    return ""


def _content_digest(path: Path) -> bytes:
    """The submission's bytes for its result key.

    Read only if it is a regular file of a readable size (what else it is goes into the key
    instead).
    """
    try:
        return hashlib.sha256(read_regular_file(path, MAX_NOTEBOOK_BYTES)).digest()
    except NotARegularFile as exc:
        try:
            info = os.lstat(path)
            return f"{exc}|{info.st_mode}|{info.st_size}|{info.st_mtime_ns}".encode()
        except OSError:
            return str(exc).encode()


# -- work done in the pool's processes ----------------------------------------

_STATE: dict = {}


def _init_worker(assignments, limits, sandbox):
    """Pool start-up: the sandbox was found and self-tested once, by the main process."""
    _STATE["assignments"] = assignments
    _STATE["limits"] = limits
    _STATE["sandbox"] = sandbox


def _grade_job(job: Job) -> tuple[dict, str]:
    return grade_submission(
        job, _STATE["assignments"][job.assignment_id], _STATE["limits"], _STATE["sandbox"]
    )


def grade_submission(
    job: Job, assignment, limits: Limits, sandbox: Sandbox | None, path: Path | None = None
) -> tuple[dict, str]:
    """Grade one submission: its result (as a dict) and its feedback page.

    The one per-submission step, the same in a local pool process and on a cluster
    worker (:mod:`autograder.cluster`).

    Args:
        job: the submission.
        assignment: its Assignment (the source notebook's tests and points).
        limits: the limits student code runs under.
        sandbox: the sandbox to run it in, or None (``--no-sandbox``).
        path: where the notebook's bytes are when not at ``job.path`` (a worker's copy);
            only its name is ever shown.

    Returns:
        (the result as a dict, the feedback page's HTML); a bug of the grader gives a
        failed result, never an exception.
    """
    path = path if path is not None else job.path
    if path is None:
        reason = f"no notebook named {assignment.notebook_name} in the submission folder"
        result = NotebookResult.failed(
            assignment,
            f"{reason} ({job.note})" if job.note else reason,
            "not run: nothing submitted" if not job.note else "not run: no notebook to grade",
        )
        return result.to_dict(), render_failure(result, job.student_id, job.late)
    try:
        nb, unreadable = read_or_fail(assignment, path, limits.notebook_bytes)
        if unreadable is not None or nb is None:
            result = unreadable or NotebookResult.failed(
                assignment, "the notebook could not be read", "not run"
            )
        else:
            result = grade_notebook(assignment, path, limits, sandbox, nb=nb)
        if job.note:
            result.problems.insert(0, job.note)
        if job.late.problem:
            result.problems.append(job.late.problem)
        mark = time.monotonic()
        if result.status == "failed" or nb is None:
            page = render_failure(result, job.student_id, job.late)
        else:
            page = render_feedback(
                autograded_notebook(assignment, nb, result),
                result,
                job.student_id,
                job.late,
                limits=limits,
            )
        result.timings["feedback"] = time.monotonic() - mark
    except Exception as exc:  # a bug of ours must not stop the class
        # The student sees no detail of ours (paths, command lines); the instructor's
        # terminal gets it.
        print(
            f"grade: internal error on {shown(job.student_id)}/{job.assignment_id}: "
            f"{type(exc).__name__}: {shown(exc)}",
            file=sys.stderr,
        )
        result = NotebookResult.failed(
            assignment,
            f"internal grader error ({type(exc).__name__}); the instructor has the details",
            "not run",
        )
        page = render_failure(result, job.student_id, job.late)
    return result.to_dict(), page


def process_failed(job: Job, assignment, exc: BaseException) -> tuple[dict, str]:
    """The result of a submission whose grading process itself died (every retry).

    Args:
        job: the submission.
        assignment: its Assignment.
        exc: what the process died of.

    Returns:
        (the failed result as a dict, its feedback page).
    """
    result = NotebookResult.failed(assignment, f"grader process failed: {exc}", "not run")
    return result.to_dict(), render_failure(result, job.student_id, job.late)


def _local_results(
    todo: list[Job], workers: int, assignments: dict, limits: Limits, sandbox: Sandbox | None
):
    """(job, (result dict, page)) for every job, as a local process pool finishes them."""
    context = multiprocessing.get_context("fork")
    with cf.ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=context,
        initializer=_init_worker,
        initargs=(assignments, limits, sandbox),
    ) as pool:
        futures = {pool.submit(_grade_job, job): job for job in todo}
        try:
            for future in cf.as_completed(futures):
                job = futures[future]
                try:
                    yield job, future.result()
                except Exception as exc:  # the pool process itself died
                    yield job, process_failed(job, assignments[job.assignment_id], exc)
        finally:  # interrupted, or the output cannot be written: start nothing more
            for future in futures:
                future.cancel()


# -- the command ------------------------------------------------------------------


@dataclass
class Selection:
    """What one run grades: ``None`` means every assignment / every student."""

    assignments: list[str] | None = None
    students: list[str] | None = None

    def covers(self, student: str, assignment: str) -> bool:
        """Whether this run grades a row.

        Args:
            student: the student id.
            assignment: the assignment id.

        Returns:
            True when both are selected (or not restricted).
        """
        return (self.assignments is None or assignment in self.assignments) and (
            self.students is None or student in self.students
        )

    def describe(self) -> str:
        """The selection in words for the summary ("" when everything is graded)."""
        parts = []
        if self.assignments is not None:
            parts.append("assignment " + ", ".join(self.assignments))
        if self.students is not None:
            parts.append("student " + ", ".join(self.students))
        return "; ".join(parts)


def _fail(message: str) -> int:
    print(f"grade: {message}", file=sys.stderr)
    return 2


def run_grade(submissions: Path, out: Path, *args, **kwargs) -> int:
    """Grade into ``out``, one run at a time (see :mod:`autograder.outdir`).

    Args:
        submissions: the submissions folder.
        out: the output folder (grades.csv, feedback/, summary.txt, report.html).
        *args: passed on to the run: workers, limits, use_sandbox, gradebook, ...
        **kwargs: passed on to the run by name (``roster_file``, ``selection``, ...).

    Returns:
        The exit status: 0 every folder graded, 1 a folder skipped or output not
        written, 2 the command could not run.
    """
    submissions, out = Path(submissions), Path(out)
    if not submissions.is_dir():
        return _fail(f"{submissions}: no such folder")
    if out.resolve() == submissions.resolve() or submissions.resolve() in out.resolve().parents:
        return _fail(f"--out {out} must not be inside the submissions folder")
    if kwargs.get("use_sandbox", True):  # before anything is written into --out
        gradebook = Path(kwargs.get("gradebook") or course_dir.GRADEBOOK)
        for what, path in (
            ("the submissions folder", submissions),
            ("--out", out),
            ("the gradebook", gradebook),
        ):
            mounted = Sandbox.exposes(path)
            if mounted:
                return _fail(
                    f"{what} {path} is inside {mounted}, which the sandbox shows to "
                    "student code: keep submissions, output and the gradebook "
                    "elsewhere."
                )
    cluster = None
    if kwargs.get("scheduler") is not None:  # before --out is made or locked: none is changed
        try:
            cluster = Cluster.connect(kwargs["scheduler"])
        except ClusterError as exc:
            return _fail(str(exc))
    try:
        lock = OutputLock(out)
        try:
            lock.__enter__()
        except OutputBusy as exc:
            print(f"grade: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # making the folder or its lock file
            print(f"grade: {write_error(exc, out)}", file=sys.stderr)
            return 1
        try:
            remove_stray_temp_files(out)
            return _run_grade(submissions, out, *args, **{**kwargs, "cluster": cluster})
        except CannotWrite as exc:
            print(f"grade: {exc}", file=sys.stderr)
            return 1
        except ClusterError as exc:  # what is graded so far is saved: a rerun resumes
            return _fail(str(exc))
        finally:
            lock.__exit__(None, None, None)
    finally:
        if cluster is not None:
            cluster.close()


def _run_grade(
    submissions: Path,
    out: Path,
    workers: int,
    limits: Limits,
    use_sandbox: bool,
    gradebook: Path,
    stream=sys.stdout,
    force: bool = False,
    roster_file: Path | None = None,
    selection: Selection | None = None,
    config: Path | None = None,
    scheduler: str | None = None,
    cluster: Cluster | None = None,
) -> int:
    from tqdm import tqdm

    from .gradebook import GradebookError, GradebookWriter

    selection = selection or Selection()
    assignments, hashes = {}, {}
    for aid in course_dir.assignment_ids(course_dir.SOLUTIONS):
        path = course_dir.notebook_path(aid, course_dir.SOLUTIONS)
        try:
            assignments[aid] = load_assignment(path, aid)
        except MarkerError as exc:
            return _fail(f"{exc}: fix the solution notebook; nothing was graded")
        hashes[aid] = hashlib.sha256(path.read_bytes()).hexdigest()
    if selection.assignments is not None:
        unknown = [a for a in selection.assignments if a not in assignments]
        if unknown:
            return _fail(
                f"--assignment {', '.join(unknown)}: no such assignment "
                f"(the assignments are {', '.join(assignments)})"
            )
    try:
        policy, notes = load_policy(config or course_dir.GRADING_CONFIG, assignments)
    except ConfigError as exc:
        return _fail(str(exc))
    roster = None
    if roster_file is not None:
        try:
            roster = read_roster(roster_file)
        except RosterError as exc:
            return _fail(str(exc))
        notes += roster.refused

    sandbox_note, sandbox = "", None
    if use_sandbox and scheduler is not None:
        pass  # each cluster worker finds and self-tests its own sandbox
    elif use_sandbox:
        try:
            sandbox = Sandbox.find()
        except Exception as exc:
            print(
                f"grade: the sandbox is not available: {exc}.\n"
                "Student code must not run unisolated by accident: install bubblewrap, or "
                "pass --no-sandbox to grade without isolation.",
                file=sys.stderr,
            )
            return 2
    else:
        sandbox_note = "WARNING: graded with --no-sandbox: student code ran without isolation."

    if scheduler is not None and cluster is None:  # called without run_grade's connection
        try:
            cluster = Cluster.connect(scheduler)
        except ClusterError as exc:
            return _fail(str(exc))
    try:
        try:
            writer = GradebookWriter(gradebook, assignments).__enter__()
        except GradebookError as exc:
            return _fail(str(exc))
        try:
            return _run(
                submissions,
                out,
                workers,
                limits,
                sandbox,
                sandbox_note,
                writer,
                stream,
                force,
                roster,
                selection,
                policy,
                notes,
                assignments,
                hashes,
                tqdm,
                cluster,
                use_sandbox,
            )
        finally:
            writer.__exit__(None, None, None)
    finally:
        if cluster is not None:
            cluster.close()


def _run(
    submissions,
    out,
    workers,
    limits,
    sandbox,
    sandbox_note,
    writer,
    stream,
    force,
    roster,
    selection,
    policy,
    notes,
    assignments,
    hashes,
    tqdm,
    cluster=None,
    sandboxed=None,
) -> int:
    sandboxed = sandbox is not None if sandboxed is None else sandboxed
    found, layout_notes = discover(submissions, assignments)
    notes += layout_notes

    # The class: the roster when there is one, else the gradebook's students and every
    # student who handed something in.
    known = writer.student_ids()
    if roster is not None:
        class_ids = set(roster.students)
        for sid in sorted({s for s, _ in found} - class_ids):
            notes.append(Skipped(f"{submissions}/{sid}: '{sid}' is not on the roster (ignored)"))
        found = {k: j for k, j in found.items() if k[0] in class_ids}
        dropped = sorted((known | _saved_students(out / ".results")) - class_ids)
    else:
        class_ids = known | {s for s, _ in found}
        dropped = []
    if selection.students is not None:
        unknown = [s for s in selection.students if s not in class_ids]
        if unknown:
            return _fail(
                f"--student {', '.join(unknown)}: not in the class (not on the roster, "
                "in the gradebook or in the submissions)"
            )

    fingerprint = grader_fingerprint(assignments)
    jobs = []
    for (sid, aid), job in sorted(found.items()):
        if not selection.covers(sid, aid):
            continue
        timestamp, problem = read_timestamp(job.folder_path)
        job.late = policy.penalty(aid, timestamp, assignments[aid].max_score)
        job.late.problem = problem
        flag = read_late_flag(job.folder_path) if timestamp is None and not problem else ""
        if flag:  # marked late by the LMS, no time known (see autograder.late)
            job.late = policy.flagged(aid, assignments[aid].max_score, flag)
        job.key = result_key(job, fingerprint, limits, sandboxed, hashes[aid])
        jobs.append(job)

    out.mkdir(parents=True, exist_ok=True)
    try:
        for stale in (out / "grades.csv", out / "summary.txt"):
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise CannotWrite(write_error(exc, out)) from None
    results_dir = out / ".results"
    try:
        mathjax_note = _install_mathjax(out)
    except OSError as exc:
        mathjax_note = (
            f"Note: MathJax could not be copied into {out / 'mathjax'} ({exc}): "
            "formulas in feedback pages show as TeX source."
        )

    # Students who left the class: no row, no gradebook entry, no feedback, no saved result.
    if roster is not None:
        keep = {folder_name(s) for s in class_ids}
        for folder in (out / "feedback", results_dir):
            if folder.is_dir():
                for child in folder.iterdir():
                    if child.name not in keep and child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
        writer.remove_students(dropped)

    done: dict[tuple[str, str], NotebookResult] = {}
    todo = []
    for job in jobs:
        saved = None if force else _load_saved(results_dir, job.folder, job.assignment_id)
        page = out / _feedback_path(job.folder, job.assignment_id, assignments)
        if saved is not None and saved.get("key") == job.key and page.is_file():
            done[(job.student_id, job.assignment_id)] = NotebookResult.from_dict(saved["result"])
        else:
            todo.append(job)
    resumed = len(done)

    grading_seconds = 0.0
    try:
        for job in jobs:
            if (job.student_id, job.assignment_id) in done:  # saved by an earlier run
                writer.record(job.student_id, done[(job.student_id, job.assignment_id)], job.late)
        if todo:
            started = time.monotonic()
            if cluster is None:
                results = _local_results(todo, workers, assignments, limits, sandbox)
            else:
                results = cluster.results(todo, assignments, limits, sandboxed, fingerprint)
            bar = tqdm(
                total=len(jobs),
                initial=resumed,
                unit="nb",
                desc="grading",
                file=sys.stderr,
                disable=not sys.stderr.isatty(),
            )
            try:
                with contextlib.closing(results):
                    for job, (data, page) in results:
                        result = NotebookResult.from_dict(data)
                        _save(out, results_dir, job, result, page, assignments)
                        writer.record(job.student_id, result, job.late)
                        done[(job.student_id, job.assignment_id)] = result
                        bar.update(1)
            finally:
                bar.close()
            grading_seconds = time.monotonic() - started
    except KeyboardInterrupt:
        print(
            f"\ngrade: interrupted; {len(done)} of {len(jobs)} submissions are saved. "
            "Run the same command again to grade the rest.",
            file=sys.stderr,
        )
        return 130

    # nbgrader's view of the class (for `nbgrader export`): every student, every assignment.
    if roster is not None:
        writer.add_students(roster.students.values())
    writer.set_due_dates(policy.due)
    rows = []
    for sid in sorted(class_ids):
        for aid in assignments:
            job = found.get((sid, aid))
            if selection.covers(sid, aid):
                if job is None:
                    writer.remove_submission(sid, aid)
                    rows.append(_missing_row(sid, aid, assignments, policy))
                else:
                    rows.append(_row(job, done[(sid, aid)], assignments))
                continue
            saved = _load_saved(results_dir, folder_name(sid), aid)
            if saved is not None:  # outside this run's selection: the last saved grade
                try:
                    old = Job(sid, aid, None, late=Lateness.from_dict(saved.get("late")))
                    rows.append(_row(old, NotebookResult.from_dict(saved["result"]), assignments))
                    continue
                except (KeyError, TypeError, ValueError):
                    pass
            if job is not None:
                rows.append(
                    _missing_row(
                        sid,
                        aid,
                        assignments,
                        policy,
                        status="pending",
                        reason="submitted; not graded yet (outside this "
                        "run's --assignment/--student)",
                    )
                )
            else:
                rows.append(_missing_row(sid, aid, assignments, policy))
    buffer = io.StringIO()
    writer_csv = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer_csv.writeheader()
    # ids and reasons as one visible line each (control characters, look-alikes escaped)
    writer_csv.writerows(
        {**r, "student_id": shown(r["student_id"]), "reason": shown(r["reason"], 2000)}
        for r in rows
    )
    _write_atomic(out / "grades.csv", buffer.getvalue())
    try:  # what the class got wrong (report.html, report.csv), from what is saved
        from .report import write_report

        write_report(out)
    except Exception as exc:  # the report never costs a grade
        notes.append(f"{out / 'report.html'}: not written ({type(exc).__name__}: {exc})")

    if cluster is not None:
        workers = cluster.describe()
    summary = _summary(
        jobs,
        done,
        rows,
        notes,
        resumed,
        len(todo),
        grading_seconds,
        workers,
        sandbox_note,
        selection,
        dropped,
        mathjax_note,
    )
    _write_atomic(out / "summary.txt", summary)
    print(summary, file=stream, end="")
    ungraded = sum(isinstance(note, Skipped) for note in notes)
    if ungraded:
        print(
            f"grade: {ungraded} submission folder(s) were not graded (listed under "
            "'Skipped' in summary.txt): exit status 1",
            file=sys.stderr,
        )
        return 1
    return 0


def _saved_students(results_dir: Path) -> set[str]:
    """The ids whose results an earlier run saved (each result names its student)."""
    ids = set()
    if results_dir.is_dir():
        for folder in results_dir.iterdir():
            for path in sorted(folder.glob("*.json"))[:1] if folder.is_dir() else []:
                try:
                    sid = json.loads(path.read_text(encoding="utf-8")).get("student_id")
                except (OSError, ValueError, AttributeError):
                    continue
                if isinstance(sid, str):
                    ids.add(sid)
    return ids


def _feedback_path(folder: str, assignment_id: str, assignments: dict) -> str:
    stem = Path(assignments[assignment_id].notebook_name).stem
    return f"feedback/{folder}/{assignment_id}/{stem}.html"


def _load_saved(results_dir: Path, folder: str, assignment_id: str) -> dict | None:
    try:
        saved = json.loads(
            (results_dir / folder / f"{assignment_id}.json").read_text(encoding="utf-8")
        )
        return saved if isinstance(saved, dict) and "result" in saved else None
    except (OSError, ValueError):
        return None


def _row(job: Job, result: NotebookResult, assignments: dict) -> dict:
    late = job.late
    score = max(0.0, result.score - late.penalty)
    return {
        "student_id": job.student_id,
        "assignment": job.assignment_id,
        "notebook": result.notebook,
        "score": f"{score:g}",
        "max_score": f"{result.max_score:g}",
        "status": result.status,
        "reason": result.reason,
        "raw_score": f"{result.score:g}",
        "late_penalty": f"{late.penalty:g}",
        "timestamp": late.to_dict()["timestamp"],
        "duedate": late.to_dict()["due"],
        "days_late": f"{late.days:.2f}" if late.seconds else "0",
        "feedback": _feedback_path(job.folder, job.assignment_id, assignments),
    }


def _missing_row(
    sid, aid, assignments, policy, status="missing", reason="nothing submitted"
) -> dict:
    due = policy.due.get(aid)
    return {
        "student_id": sid,
        "assignment": aid,
        "notebook": assignments[aid].notebook_name,
        "score": "0",
        "max_score": f"{assignments[aid].max_score:g}",
        "status": status,
        "reason": reason,
        "raw_score": "0",
        "late_penalty": "0",
        "timestamp": "",
        "duedate": Lateness(due=due).to_dict()["due"],
        "days_late": "0",
        "feedback": "",
    }


def _install_mathjax(out: Path) -> str:
    """Copy the course's MathJax into OUT/mathjax once (feedback pages load it from there)."""
    source = course_dir.MATHJAX
    if not (source / "tex-chtml.js").is_file():
        return (
            f"Note: MathJax was not found in {source} (run `make setup`): formulas in "
            "feedback pages show as TeX source."
        )
    target = out / "mathjax"
    config = (
        "window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
        "processEscapes: true}, options: {enableMenu: false}};\n"
    )
    current = target / "tex-chtml.js"
    if not (current.is_file() and current.read_bytes() == (source / "tex-chtml.js").read_bytes()):
        staging = out / ".mathjax-copy"  # a run killed midway leaves this; the next reuses it
        shutil.rmtree(staging, ignore_errors=True)
        try:
            shutil.copytree(source, staging)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
        finally:  # a full disk: nothing half-copied stays to take the pages' room
            shutil.rmtree(staging, ignore_errors=True)
    if (
        not (target / "config.js").is_file()
        or (target / "config.js").read_text(encoding="utf-8") != config
    ):
        _write_atomic(target / "config.js", config)
    return ""


def _save(
    out: Path, results_dir: Path, job: Job, result: NotebookResult, page: str, assignments: dict
) -> None:
    _write_atomic(out / _feedback_path(job.folder, job.assignment_id, assignments), page)
    _write_atomic(
        results_dir / job.folder / f"{job.assignment_id}.json",
        json.dumps(
            {
                "key": job.key,
                "student_id": job.student_id,
                "late": job.late.to_dict(),
                "result": result.to_dict(),
            }
        ),
    )


def _summary(
    jobs,
    done,
    rows,
    notes,
    resumed,
    graded_now,
    seconds,
    workers,
    sandbox_note,
    selection,
    dropped,
    mathjax_note,
) -> str:
    lines = []
    if sandbox_note:
        lines.append(sandbox_note)
    if mathjax_note:
        lines.append(mathjax_note)
    rate = (
        f": {graded_now / seconds * 60:.0f} notebooks per minute" if graded_now and seconds else ""
    )
    lines.append(
        f"Graded {graded_now} notebook(s) in this run ({resumed} from an earlier run) "
        f"in {seconds:.1f} s with "
        f"{workers if isinstance(workers, str) else f'{workers} worker(s)'}{rate}."
    )
    if selection.describe():
        lines.append(
            f"  only {selection.describe()}: the other rows of grades.csv keep their "
            "last saved grades"
        )
    graded = [done[(j.student_id, j.assignment_id)] for j in jobs]
    failed = [(j, r) for j, r in zip(jobs, graded, strict=True) if r.status == "failed"]
    noted = [
        (j, r) for j, r in zip(jobs, graded, strict=True) if r.status != "failed" and r.problems
    ]
    late = [j for j in jobs if j.late.seconds]
    full = sum(1 for r in graded if r.score == r.max_score)
    in_scope = [r for r in rows if selection.covers(r["student_id"], r["assignment"])]
    missing = [r for r in in_scope if r["status"] == "missing"]
    lines.append(
        f"  full marks: {full}   partial or zero: {len(jobs) - full - len(failed)}   "
        f"could not be graded: {len(failed)}   late: {len(late)}   "
        f"missing: {len(missing)}"
    )
    if failed:
        lines.append("\nCould not be graded (scored 0):")
        for job, result in failed:
            lines.append(f"  {shown(job.student_id)}/{job.assignment_id}: {shown(result.reason)}")
    if noted:
        lines.append("\nGraded, with problems:")
        for job, result in noted:
            lines.append(f"  {shown(job.student_id)}/{job.assignment_id}: {shown(result.reason)}")
    if late:
        lines.append("\nLate (penalty applied):")
        for job in late:
            lines.append(
                f"  {shown(job.student_id)}/{job.assignment_id}: "
                f"{duration(job.late.seconds)} "
                f"late, -{job.late.penalty:g} points"
            )
    if missing:
        lines.append("\nMissing (nothing submitted, scored 0):")
        by_student: dict[str, list[str]] = {}
        for row in missing:
            by_student.setdefault(row["student_id"], []).append(row["assignment"])
        for sid, aids in by_student.items():
            lines.append(f"  {shown(sid)}: {', '.join(aids)}")
    if dropped:
        lines.append(
            "\nDropped (not on the roster; removed from grades.csv, the gradebook and feedback/):"
        )
        lines += [f"  {shown(sid)}" for sid in dropped]
    if notes:
        lines.append("\nSkipped:")
        lines += [f"  {shown(n)}" for n in notes]
    by_assignment: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for row in rows:
        aid = row["assignment"]
        max_score = float(row["max_score"])
        by_assignment.setdefault(aid, []).append(
            float(row["score"]) / max_score if max_score else 0
        )
        counts[aid] = counts.get(aid, 0) + (row["status"] not in ("missing", "pending"))
    if by_assignment:
        lines.append("\nassignment            submissions   missing   mean score (missing = 0)")
        for aid, fractions in sorted(by_assignment.items()):
            lines.append(
                f"  {aid:<20} {counts[aid]:>11}   {len(fractions) - counts[aid]:>7}   "
                f"{100 * sum(fractions) / len(fractions):9.1f}%"
            )
    return "\n".join(lines) + "\n"
