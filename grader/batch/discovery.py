"""The class folder: its submissions, the digest of each one's content, and fingerprints
of each part's normalised code (to spot identical submissions). Reads, never runs, code."""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

SUFFIXES = (".zip", ".ipynb")


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
    return sub.digest, {part: fingerprint(chunks) for part, chunks in sub.parts.items()}, static.implemented(sub)


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
