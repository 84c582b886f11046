"""The class folder: its submissions, the digest of each one's content, and fingerprints
of each part's normalised code (to spot identical submissions). Reads, never runs, code."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

SUFFIXES = (".zip", ".ipynb")
SHAPE = (
    "a class folder holds one sub-folder, .zip or .ipynb per student (named by the student), "
    'or is Moodle\'s "Download all submissions" zip or folder'
)


class ClassError(Exception):
    """CLASS_DIR is not a class (exit status 2): what was found, and what a class looks like."""


def read_class(class_dir: Path, out: Path) -> list[tuple[str, Path]]:
    """The submissions of CLASS_DIR (a folder, or Moodle's download as a zip or a folder,
    staged under OUT), as `discover` gives them; ClassError when it is not a class."""
    from grader.batch import moodle

    try:
        if moodle.is_moodle(class_dir):
            return discover(moodle.stage(class_dir, out))
    except moodle.MoodleError as e:
        raise ClassError(str(e)) from None
    if not class_dir.is_dir():
        raise ClassError(f"{class_dir} is neither a folder nor Moodle's download: {SHAPE}")
    loose = _loose_parts(class_dir)
    if loose:
        raise ClassError(
            f"{class_dir} looks like one student's submission, not a class: "
            f"{', '.join(loose[:4])}{' ...' if len(loose) > 4 else ''} at its top "
            f"(grade check grades it); {SHAPE}"
        )
    entries = discover(class_dir, out)
    if not entries:
        seen = [p.name for p in sorted(class_dir.iterdir()) if not p.name.startswith(".")]
        found = "nothing"
        if seen:
            found = f"only {', '.join(seen[:4])}{' ...' if len(seen) > 4 else ''}"
        raise ClassError(f"no submission found in {class_dir} ({found}); {SHAPE}")
    return entries


def _loose_parts(class_dir: Path) -> list[str]:
    """Files at the top that are one student's parts: any module; or notebooks when there is
    nothing else, each named as a part or as the course's notebook of an assignment
    (`1_ab_Intro_to_NNs.ipynb`), one of each at most (two are two students' copies)."""
    from grader.labs import current

    lab = current()
    names = {*lab.part_names, *(a.name.replace("-", "_") for a in lab.assignments)}
    top = [p for p in sorted(class_dir.iterdir()) if not p.name.startswith((".", "_"))]
    modules = [p.name for p in top if p.is_file() and p.suffix == ".py"]
    if modules or any(p.is_dir() or p.suffix == ".zip" for p in top):
        return modules

    def course(stem: str) -> str | None:
        stem = stem.lower().replace("-", "_")
        return next((n for n in names if stem == n or stem.startswith(n + "_")), None)

    notebooks = [(p.name, course(p.stem)) for p in top if p.suffix == ".ipynb"]
    kinds = [kind for _, kind in notebooks]
    if notebooks and None not in kinds and len(set(kinds)) == len(kinds):
        return [name for name, _ in notebooks]
    return []


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


def scan(path: Path) -> tuple[str, dict[str, str], int]:
    """(content digest, fingerprint of each part found, how many functions it implements:
    the batch grades the most work first, so that its jobs end together)."""
    from grader import static
    from grader.submission import open_submission

    try:
        sub = open_submission(path)
    except Exception:  # noqa: BLE001 - unreadable: the grader will say why; hash the raw bytes
        return _raw_digest(path), {}, 0
    return (
        sub.digest,
        {part: fingerprint(chunks) for part, chunks in sub.parts.items()},
        static.implemented(sub),
    )


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
