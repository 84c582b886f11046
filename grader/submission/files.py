"""Read a submission's files into memory: a folder, a single notebook, or a zip.

Nothing is extracted to disk, so a zip's `../` or absolute paths can write nothing;
they are refused all the same, as is a zip that inflates past the size cap.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

MAX_FILE = 32 << 20  # one notebook with outputs can be large
MAX_TOTAL = 128 << 20
MAX_FILES = 5000
KEPT = (".py", ".ipynb")
IGNORED_DIRS = {
    "__pycache__",
    ".git",
    ".ipynb_checkpoints",
    "__MACOSX",
    ".venv",
    "venv",
    "node_modules",
}


class SubmissionError(Exception):
    """The submission cannot be read at all (exit status 2)."""


def _kept(parts: tuple[str, ...]) -> bool:
    return (
        bool(parts)
        and parts[-1].endswith(KEPT)
        and not any(p in IGNORED_DIRS or p.startswith(".") for p in parts)
    )


def read_folder(folder: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or path.is_symlink() or not _kept(rel.parts):
            continue
        size = path.stat().st_size
        total += size
        if size > MAX_FILE or total > MAX_TOTAL or len(files) >= MAX_FILES:
            raise SubmissionError(f"{folder} is too large to grade ({rel} and beyond)")
        files[rel.as_posix()] = path.read_bytes()
    return files


def read_zip(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise SubmissionError(f"{path} is not a readable zip file ({e})") from None
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        members = archive.infolist()
        if len(members) > MAX_FILES:
            raise SubmissionError(
                f"{path} holds {len(members)} entries; at most {MAX_FILES} are read"
            )
        for info in members:
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
                raise SubmissionError(
                    f"{path} has an entry that points outside the folder: {info.filename!r}"
                )
            if info.is_dir() or not _kept(name.parts):
                continue
            if info.file_size > MAX_FILE:
                raise SubmissionError(
                    f"{path}: {info.filename!r} inflates past {MAX_FILE >> 20} MiB; "
                    "the zip is not graded"
                )
            try:
                with archive.open(info) as member:
                    data = member.read(MAX_FILE + 1)  # the header's size may lie
            except (
                zipfile.BadZipFile,
                OSError,
                RuntimeError,
                NotImplementedError,
                EOFError,
                zlib.error,
            ) as e:
                raise SubmissionError(f"{path}: cannot read {info.filename!r} ({e})") from None
            if len(data) > MAX_FILE:
                raise SubmissionError(f"{path}: {info.filename!r} inflates past its declared size")
            total += len(data)
            if total > MAX_TOTAL:
                raise SubmissionError(
                    f"{path} inflates past {MAX_TOTAL >> 20} MiB; it is not graded"
                )
            files[name.as_posix()] = data
    return _strip_common_folder(files)


def _strip_common_folder(files: dict[str, bytes]) -> dict[str, bytes]:
    """A zip of a folder holds `folder/tp1_manual.py`: grade it as `tp1_manual.py`."""
    while files and all("/" in k for k in files) and len({k.split("/", 1)[0] for k in files}) == 1:
        files = {k.split("/", 1)[1]: v for k, v in files.items()}
    return files


def read_submission(path: Path) -> dict[str, bytes]:
    """The submission's `.py` and `.ipynb` files by relative path."""
    if not path.exists():
        raise SubmissionError(f"no such file or folder: {path}")
    try:
        if path.is_dir():
            return read_folder(path)
        if path.suffix == ".zip":
            return read_zip(path)
        if path.suffix in KEPT:
            return {path.name: path.read_bytes()}
    except OSError as e:  # a file without read permission, a folder that vanished
        raise SubmissionError(f"cannot read {path} ({e.strerror or e})") from None
    raise SubmissionError(f"{path} is not a folder, a .ipynb notebook, a .py module or a .zip")
