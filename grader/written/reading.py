"""A student's written report, as text: the PDF, Markdown or text files of the submission
(a folder or a zip), else the markdown cells of its notebooks. Nothing is extracted to
disk; a file that cannot be read is named in a note and the rest is read."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.submission.files import IGNORED_DIRS, MAX_FILE, MAX_FILES

REPORTS = (".pdf", ".md", ".markdown", ".txt")
NOTEBOOK = ".ipynb"
PDF_SECONDS = 60.0
PDF_MEMORY = 2 << 30


@dataclass
class WrittenReport:
    documents: list[tuple[str, str]] = field(default_factory=list)  # (file name, text)
    notes: list[str] = field(default_factory=list)  # what could not be read


def _wanted(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return (
        bool(parts)
        and parts[-1].lower().endswith(REPORTS + (NOTEBOOK,))
        and not any(p in IGNORED_DIRS or p.startswith(".") for p in parts)
    )


def _files(path: Path) -> dict[str, bytes]:
    """The submission's report files and notebooks by relative name (at most MAX_FILES, each
    at most MAX_FILE bytes: larger ones are skipped)."""
    found: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(path).as_posix()
            if (
                len(found) < MAX_FILES
                and p.is_file()
                and not p.is_symlink()
                and _wanted(rel)
                and p.stat().st_size <= MAX_FILE
            ):
                found[rel] = p.read_bytes()
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            for info in z.infolist()[:MAX_FILES]:
                if not info.is_dir() and _wanted(info.filename) and info.file_size <= MAX_FILE:
                    with z.open(info) as member:
                        data = member.read(MAX_FILE + 1)
                    if len(data) <= MAX_FILE:
                        found[info.filename] = data
    elif _wanted(path.name):
        found[path.name] = path.read_bytes()
    return found


def pdf_text(data: bytes, seconds: float = PDF_SECONDS) -> str:
    """The text of a PDF, page after page (pypdf's extraction; no OCR), in a process of its
    own under a time and memory bound: a crafted PDF can make a parser loop or inflate, and
    it costs that report only."""
    try:
        run = subprocess.run(
            [sys.executable, "-m", "grader.written.pdftext"],
            input=data,
            capture_output=True,
            timeout=seconds,
            preexec_fn=_bounded if os.name == "posix" else None,
        )
    except subprocess.TimeoutExpired:
        raise ValueError(f"its text took more than {seconds:g} s to extract") from None
    if run.returncode != 0:
        last = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no text"]
        raise ValueError(last[0][:300])
    return run.stdout.decode("utf-8", "replace")


def _bounded() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (PDF_MEMORY, PDF_MEMORY))


def notebook_text(data: bytes) -> str:
    """The markdown cells of a notebook, one after the other."""
    cells = json.loads(data.decode("utf-8")).get("cells", [])
    texts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            texts.append("".join(source) if isinstance(source, list) else str(source))
    return "\n\n".join(texts)


def _text(name: str, data: bytes) -> str:
    if name.lower().endswith(".pdf"):
        return pdf_text(data)
    if name.lower().endswith(NOTEBOOK):
        return notebook_text(data)
    return data.decode("utf-8", errors="replace")


def fingerprint(path: Path) -> str:
    """A digest of the submission's report files and notebooks: a rerun reads again only the
    reports that changed."""
    h = hashlib.sha256()
    try:
        for name, data in sorted(_files(path).items()):
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        h.update(repr(e).encode())
    return h.hexdigest()[:16]


def read_report(path: Path) -> WrittenReport:
    """The report of the submission at `path`: its report files if it has any, else the
    markdown cells of its notebooks."""
    report = WrittenReport()
    try:
        files = _files(path)
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        report.notes.append(f"the submission could not be read ({type(e).__name__}: {e})")
        return report
    reports = [n for n in files if not n.lower().endswith(NOTEBOOK)]
    for name in reports or [n for n in files if n.lower().endswith(NOTEBOOK)]:
        try:
            text = _text(name, files[name])
        except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on a broken file
            report.notes.append(f"{name} could not be read ({type(e).__name__}: {str(e)[:200]})")
            continue
        if text.strip():
            report.documents.append((name, text))
        elif name.lower().endswith(".pdf"):
            report.notes.append(f"{name} holds no text (a scan? it is not read by OCR)")
    return report
