"""`grade batch CLASS_DIR --out OUT`: grade a whole class, in parallel, resumably.

Every entry of CLASS_DIR (a sub-folder, a `.zip` or a `.ipynb`; its name without the
suffix is the student id) is graded by the very command a student runs,
`python -m grader.cli check`, in a subprocess of its own: the verdict is the same as
`grade check`'s, and a submission that breaks the grader (exit 2, a crash, a hang past
`--submission-timeout`) costs only its own row.

The jobs go to a `concurrent.futures` executor: threads that each wait on one
subprocess here, or, with `--scheduler ADDRESS`, a Dask cluster's
`Client.get_executor()` (extra `grader[dask]`; the workers must see CLASS_DIR at the
same path). A job returns the files' text; only this process writes into OUT:

    OUT/results/ID.json        the contract's JSON        (written atomically)
    OUT/results/ID.meta.json   digest, seed, parts, status (written last: the commit mark)
    OUT/reports/ID.html        the student's report
    OUT/gradescope/ID.json     with --gradescope
    OUT/grades.csv             one row a student           (grader.render.csv)
    OUT/summary.html           what the class got wrong    (grader.render.summary)

A rerun skips a submission whose meta says it was graded from the same content
(`Submission.digest`), seed and parts, and whose files are all there; Ctrl-C or a
kill loses only the submissions in flight. Exit status: 0 when every submission was
graded (whatever its score), 1 when any failed to grade, 2 when the batch could not
start, 130 when interrupted.
"""
from __future__ import annotations

import ast
import concurrent.futures as cf
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.labs import current
from grader.results import PartResult, Report, TestResult

SUFFIXES = (".zip", ".ipynb")
THREAD_ENV = {"GRADER_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}
OK, FAILED = "ok", "failed-to-grade"


# -- the job: runs wherever the executor puts it, returns plain data ---------------------
@dataclass(frozen=True)
class Job:
    id: str
    path: str
    seed: int = 0
    timeout: float = 60.0                 # one call of student code (`grade check --timeout`)
    submission_timeout: float = 1800.0    # the whole `grade check` run
    parts: tuple[str, ...] | None = None  # None: the assignments that `grade check` finds
    gradescope: bool = False
    command: tuple[str, ...] | None = None  # default: this machine's `python -m grader.cli check`


@dataclass
class Outcome:
    id: str
    error: str = ""                       # empty when graded
    result: str | None = None             # the contract JSON, as text
    html: str | None = None
    gradescope: str | None = None
    returncode: int | None = None
    seconds: float = 0.0


_running: dict[int, subprocess.Popen] = {}   # pid -> the `grade check` runs in flight here
_lock = threading.Lock()
_stopping = threading.Event()


def grade_job(job: Job) -> Outcome:
    """Run `grade check` on one submission in a fresh process group; never raises."""
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
            outcome = _run_check(job, Path(tmp))
    except Exception as e:  # noqa: BLE001 - anything here is a failure of this one job
        outcome = Outcome(job.id, error=f"the batch could not run the grader ({type(e).__name__}: {e})")
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


def _run_check(job: Job, tmp: Path) -> Outcome:
    files = {"result": tmp / "result.json", "html": tmp / "report.html", "gradescope": tmp / "gradescope.json"}
    command = list(job.command or (sys.executable, "-m", "grader.cli", "check"))
    command += [job.path, "--json", str(files["result"]), "--html", str(files["html"]),
                "--seed", str(job.seed), "--timeout", f"{job.timeout:g}", *(("--parts", *job.parts) if job.parts else ())]
    if job.gradescope:
        command += ["--gradescope", str(files["gradescope"])]
    env = {**os.environ, **THREAD_ENV, "NO_COLOR": "1"}
    with _lock:
        if _stopping.is_set():
            return Outcome(job.id, error="interrupted before it started")
        proc = subprocess.Popen(command, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
        _running[proc.pid] = proc
    try:
        try:
            _, stderr = proc.communicate(timeout=job.submission_timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            proc.communicate()
            return Outcome(job.id, returncode=proc.returncode,
                           error=f"grading took longer than {job.submission_timeout:g} s and was stopped")
    finally:
        with _lock:
            _running.pop(proc.pid, None)
    code = proc.returncode
    result = _read(files["result"])
    if code in (0, 1) and result is not None and _is_contract(result):
        return Outcome(job.id, result=result, html=_read(files["html"]),
                       gradescope=_read(files["gradescope"]) if job.gradescope else None, returncode=code)
    return Outcome(job.id, returncode=code, error=_why(code, stderr, _stopping.is_set()))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _is_contract(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("tests"), list) and isinstance(data.get("parts"), list)


def _why(code: int | None, stderr: str, stopping: bool) -> str:
    """One line on why `grade check` gave no result."""
    if stopping:
        return "interrupted while grading"
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("grade:") and not line.startswith("grade: note:")]
    if code == 2 and said:
        return said[-1].removeprefix("grade:").strip()
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"the grader was killed by signal {name}"
    last = lines[-1] if lines else "no message"
    return f"the grader failed (exit status {code}): {last}"[:500]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read().decode(errors="replace")
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _kill_tree(pid: int) -> None:
    """SIGKILL the process `pid` that this module started, its group, and its descendants
    (the grader's sandboxed worker runs in a session of its own)."""
    tree, todo, found = _children(), [pid], []
    while todo:
        p = todo.pop()
        found.append(p)
        todo += tree.get(p, [])
    for p in found:
        for kill in (os.killpg, os.kill):
            try:
                kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass


def stop_running() -> None:
    """After Ctrl-C: start nothing more and kill what is in flight in this process.
    A process already reaped is left alone: its pid may belong to another by now."""
    with _lock:
        _stopping.set()
        for proc in list(_running.values()):
            if proc.returncode is None:
                _kill_tree(proc.pid)


# -- the class: entries, digests, resumption, files -------------------------------------
@dataclass
class Graded:
    """One student's row: what the CSV and the summary read."""
    id: str
    entry: str                            # the file or folder name in CLASS_DIR
    status: str = OK                      # OK or FAILED
    error: str = ""
    report: Report | None = None
    digest: str = ""
    seconds: float = 0.0
    resumed: bool = False
    fingerprints: dict[str, str] = field(default_factory=dict)  # part -> hash of its normalised AST


def discover(class_dir: Path, out: Path | None = None) -> list[tuple[str, Path]]:
    """(student id, path) of every submission in CLASS_DIR, sorted by id."""
    entries = []
    out = out.resolve() if out else None
    for path in sorted(class_dir.iterdir()):
        if path.name.startswith((".", "_")) or (out and path.resolve() == out):
            continue
        if path.is_dir() and not path.is_symlink():
            entries.append((path.name, path))
        elif path.is_file() and path.suffix in SUFFIXES:
            entries.append((path.name.removesuffix(path.suffix), path))
    return entries


def fingerprint(chunks) -> str:
    """Hash of a part's code once normalised: the AST of each top-level statement, so that
    comments, blank lines, spacing and cell boundaries do not count."""
    statements = []
    for chunk in chunks:
        try:
            statements += [ast.dump(node) for node in ast.parse(chunk.code).body]
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            kept = (line.strip() for line in chunk.code.splitlines())
            statements += [line for line in kept if line and not line.startswith("#")]
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]


def scan(path: Path) -> tuple[str, dict[str, str]]:
    """(content digest, fingerprint of each part found). Reads, never runs, the code."""
    from grader.submission import open_submission
    try:
        sub = open_submission(path)
    except Exception:  # noqa: BLE001 - unreadable: the grader will say why; hash the raw bytes
        return _raw_digest(path), {}
    return sub.digest, {part: fingerprint(chunks) for part, chunks in sub.parts.items()}


def _raw_digest(path: Path) -> str:
    h = hashlib.sha256()
    try:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for p in files:
            h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode() + b"\0")
            h.update(p.read_bytes())
    except OSError as e:
        h.update(repr(e).encode())
    return "raw-" + h.hexdigest()[:16]


def report_from_json(data: dict, seed: int) -> Report:
    """The results model back from the contract's JSON."""
    tests = [TestResult(id=t["id"], part=t["part"], name=t.get("name", ""), status=t["status"],
                        score=float(t["score"]), max_score=float(t["max_score"]),
                        message=t.get("message") or "", diagnosis=t.get("diagnosis"))
             for t in data["tests"]]
    parts = [PartResult(part=p["part"], found=bool(p["found"])) for p in data["parts"]]
    return Report(submission=data.get("submission", ""), seed=seed, parts=parts, tests=tests)


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """OUT's files, each written atomically (a temporary file, then os.replace)."""

    def __init__(self, out: Path):
        self.out = out
        for sub in ("results", "reports"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        for leftover in out.glob("*/.*.tmp"):  # from a run killed while writing
            leftover.unlink(missing_ok=True)

    def paths(self, sid: str) -> dict[str, Path]:
        return {"result": self.out / "results" / f"{sid}.json", "meta": self.out / "results" / f"{sid}.meta.json",
                "html": self.out / "reports" / f"{sid}.html", "gradescope": self.out / "gradescope" / f"{sid}.json"}

    def up_to_date(self, job: Job, digest: str) -> Report | None:
        """The stored report when the stored result was graded from this content, seed and parts."""
        paths = self.paths(job.id)
        try:
            meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
            result = json.loads(paths["result"].read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        same = (meta.get("status") == OK and meta.get("digest") == digest and meta.get("seed") == job.seed
                and meta.get("parts") == list(job.parts or ()) and paths["html"].exists()
                and (not job.gradescope or paths["gradescope"].exists()))
        return report_from_json(result, job.seed) if same else None

    def save(self, job: Job, digest: str, outcome: Outcome) -> None:
        paths = self.paths(job.id)
        meta = {"id": job.id, "entry": Path(job.path).name, "digest": digest, "seed": job.seed,
                "parts": list(job.parts or ()), "status": OK if not outcome.error else FAILED, "error": outcome.error,
                "seconds": outcome.seconds, "graded": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        if outcome.error:  # no stale result may outlive a failed regrade
            for key in ("result", "html", "gradescope"):
                paths[key].unlink(missing_ok=True)
        else:
            if outcome.html is not None:
                atomic_write(paths["html"], outcome.html)
            if outcome.gradescope is not None:
                atomic_write(paths["gradescope"], outcome.gradescope)
            atomic_write(paths["result"], outcome.result)
        atomic_write(paths["meta"], json.dumps(meta, indent=2) + "\n")


# -- the run -----------------------------------------------------------------------------
class Log:
    """A progress bar with ETA on a terminal, and one line per student in any case."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stdout
        self.progress = None
        if total and self.stream.isatty():
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)
            self.progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                     TextColumn("ETA"), TimeRemainingColumn(),
                                     console=Console(file=self.stream, highlight=False))
            self.task = self.progress.add_task("grading", total=total)
            self.progress.start()

    def line(self, text: str, advance: bool = False) -> None:
        if self.progress:
            from rich.markup import escape
            self.progress.console.print(escape(text))
            if advance:
                self.progress.advance(self.task)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.progress:
            self.progress.stop()


def _row_line(row: Graded) -> str:
    if row.status != OK:
        return f"{row.id}: {FAILED}: {row.error}"
    return f"{row.id}: {row.report.score:g} / {row.report.max_score:g}  ({row.seconds:.1f} s)"


def run(class_dir: Path, out: Path, *, jobs: int | None = None, seed: int = 0, timeout: float = 60.0,
        submission_timeout: float = 1800.0, parts: tuple[str, ...] | None = None, gradescope: bool = False,
        executor: cf.Executor | None = None, command: tuple[str, ...] | None = None,
        stream=None) -> tuple[list[Graded], bool]:
    """Grade CLASS_DIR into OUT; returns (one row per student, whether it ran to the end).
    `executor` defaults to `jobs` threads; a given one (Dask's) is not shut down here."""
    class_dir, out = Path(class_dir), Path(out)
    parts = tuple(p for p in current().part_names if parts is None or p in parts)
    _stopping.clear()
    store = Store(out)
    rows: dict[str, Graded] = {}
    todo: list[tuple[Job, Graded]] = []
    for sid, path in discover(class_dir, out):
        if sid in rows:
            rows[path.name] = Graded(path.name, path.name, FAILED,
                                     f"not graded: another entry has the same student id `{sid}`")
            continue
        digest, prints = scan(path)
        row = rows[sid] = Graded(sid, path.name, digest=digest, fingerprints=prints)
        job = Job(sid, str(path.resolve()), seed, timeout, submission_timeout, parts, gradescope, command)
        stored = store.up_to_date(job, digest)
        if stored is not None:
            row.report, row.resumed = stored, True
        else:
            todo.append((job, row))
    log = Log(len(todo), stream)
    if len(todo) < len(rows):
        log.line(f"{len(rows) - len(todo)} of {len(rows)} submissions unchanged since their last grading: kept")
    own = executor is None
    executor = executor or cf.ThreadPoolExecutor(max_workers=max(1, jobs or _cores()))
    finished = False
    futures = {}
    try:
        futures = {executor.submit(grade_job, job): (job, row) for job, row in todo}
        for future in cf.as_completed(futures):
            job, row = futures[future]
            try:
                outcome = future.result()
            except Exception as e:  # noqa: BLE001 - e.g. a Dask worker lost
                outcome = Outcome(job.id, error=f"the job failed ({type(e).__name__}: {e})")
            _settle(row, outcome, seed)
            store.save(job, row.digest, outcome)
            log.line(_row_line(row), advance=True)
        finished = True
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        stop_running()
        log.line("interrupted: the submissions in flight are lost; rerun the same command to go on")
    finally:
        log.close()
        if own:
            executor.shutdown(wait=finished, cancel_futures=True)
    graded = [row for row in rows.values() if row.report is not None or row.status == FAILED]
    write_class_files(graded, out, parts, seed)
    return sorted(rows.values(), key=lambda r: r.id) if finished else graded, finished


def _settle(row: Graded, outcome: Outcome, seed: int) -> None:
    row.seconds = outcome.seconds
    if not outcome.error:
        try:
            row.report = report_from_json(json.loads(outcome.result), seed)
        except (ValueError, KeyError, TypeError) as e:
            outcome.error = f"the grader's JSON could not be read ({type(e).__name__}: {e})"
    if outcome.error:
        row.status, row.error, row.report = FAILED, outcome.error, None


def write_class_files(rows: list[Graded], out: Path, parts: tuple[str, ...], seed: int) -> None:
    from grader.render import csv as csv_render
    from grader.render import summary
    rows = sorted(rows, key=lambda r: r.id)
    atomic_write(out / "grades.csv", csv_render.render(rows, parts))
    atomic_write(out / "summary.html", summary.render(rows, parts, seed=seed))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def dask_executor(address: str):
    """(client, executor) for a Dask distributed scheduler; ImportError without grader[dask]."""
    from distributed import Client
    client = Client(address)
    return client, client.get_executor(pure=False)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(args) -> int:
    class_dir, out = Path(args.class_dir), Path(args.out)
    if not class_dir.is_dir():
        print(f"grade: {class_dir} is not a folder", file=sys.stderr)
        return 2
    previous = None
    if threading.current_thread() is threading.main_thread():  # `kill` stops like Ctrl-C
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(args, class_dir, out)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _parts(args) -> tuple[str, ...]:
    """The parts of `--tp` (by default all), or of `--parts` among them: the same for every student."""
    return current().selection((), args.tp or "all", args.parts)[0]


def _main(args, class_dir: Path, out: Path) -> int:
    client = executor = None
    if args.scheduler:
        try:
            client, executor = dask_executor(args.scheduler)
        except ImportError:
            print("grade: --scheduler needs Dask: pip install 'rdfia-grader[dask]'", file=sys.stderr)
            return 2
        except (OSError, TimeoutError) as e:
            print(f"grade: cannot reach the Dask scheduler at {args.scheduler}: {e}", file=sys.stderr)
            return 2
    try:
        rows, finished = run(class_dir, out, jobs=args.jobs, seed=args.seed, timeout=args.timeout,
                             submission_timeout=args.submission_timeout, parts=_parts(args),
                             gradescope=args.gradescope, executor=executor)
    except KeyboardInterrupt:  # while reading the class, before any grading
        print("\ngrade: interrupted before grading started", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    failed = [r for r in rows if r.status == FAILED]
    print(f"\n{len(rows) - len(failed)} graded, {len(failed)} failed to grade"
          f"{'' if finished else ' (interrupted)'}: {out / 'grades.csv'}, {out / 'summary.html'}")
    if not finished:
        return 130
    return 1 if failed else 0
