"""Moodle's "Download all submissions" as a class: a zip (or the folder it unzips to) holding
one folder per student and submission plugin, `Full Name_PARTICIPANT_assignsubmission_file_/`
(and `..._assignsubmission_onlinetext_/onlinetext.html`), or, when the teacher unticked
"Download submissions in folders", files named `Full Name_PARTICIPANT_assignsubmission_file_NAME`.

Each student becomes one submission, staged under OUT (a folder of the student's files, or
the zip they uploaded alone), whose id is `Full Name_PARTICIPANT`: the name for the reader,
the participant id for Moodle's grading worksheet ("Participant PARTICIPANT")."""

from __future__ import annotations

import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.submission.files import MAX_FILES, MAX_TOTAL

ENTRY = re.compile(
    r"^(?P<name>.+)_(?P<participant>\d+)"
    r"_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<rest>.*)$",
    re.DOTALL,
)
STAGE = ".moodle-submissions"  # under OUT; discovery skips dot-names


class MoodleError(Exception):
    """The download cannot be read (exit status 2)."""


@dataclass(frozen=True)
class Student:
    id: str  # "Zoé Müller_123456"
    name: str
    participant: str  # "123456"


def _student(top: str) -> tuple[Student, str] | None:
    """The student of a top-level entry's name, and what follows the plugin (a flat file's name)."""
    m = ENTRY.match(unicodedata.normalize("NFC", top))
    if not m:
        return None
    name = " ".join(m["name"].split()) or "?"
    return Student(f"{name}_{m['participant']}", name, m["participant"]), m["rest"]


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The member's name; Moodle writes UTF-8, flagged or not (zipfile then decoded it as cp437)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _top_names(source: Path) -> list[str]:
    if source.is_dir():
        return [p.name for p in source.iterdir()]
    try:
        with zipfile.ZipFile(source) as z:
            return sorted({_zip_name(i).replace("\\", "/").split("/", 1)[0] for i in z.infolist()})
    except (zipfile.BadZipFile, OSError) as e:
        raise MoodleError(f"{source} is not a readable zip file ({e})") from None


def is_moodle(source: Path) -> bool:
    """Whether `source` (a folder or a zip) is a Moodle download: a zip always must be."""
    if not (source.is_dir() or source.suffix == ".zip"):
        return False
    return any(_student(n) for n in _top_names(source))


def students(source: Path) -> dict[str, Student]:
    """{id: student} of a Moodle download, from its entries' names."""
    found = (_student(n) for n in _top_names(source))
    return {s.id: s for s, _ in filter(None, found)}


def _files(source: Path):
    """(student, path inside the student's submission, reader of its bytes) of every file."""
    if source.is_dir():
        for top in sorted(source.iterdir()):
            hit = _student(top.name)
            if hit is None or top.is_symlink():
                continue
            student, rest = hit
            if top.is_file():
                yield student, rest, top.read_bytes
            elif top.is_dir():
                for path in sorted(top.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        yield student, path.relative_to(top).as_posix(), path.read_bytes
        return
    with zipfile.ZipFile(source) as z:
        members = z.infolist()
        if len(members) > MAX_FILES * 100:
            raise MoodleError(f"{source} holds {len(members)} entries: not a class download")
        for info in members:
            parts = PurePosixPath(_zip_name(info).replace("\\", "/")).parts
            if info.is_dir() or not parts or ".." in parts or parts[0] in ("/", ""):
                continue
            hit = _student(parts[0])
            if hit is None:
                continue
            student, rest = hit
            inner = "/".join(parts[1:]) if len(parts) > 1 else rest

            def read(info=info) -> bytes:
                with z.open(info) as member:
                    return member.read(MAX_TOTAL + 1)  # past the cap, the grader refuses it

            yield student, inner, read


def stage(source: Path, out: Path) -> Path:
    """Write each student's submission under OUT/.moodle-submissions (made anew): a folder
    `ID/` of its files, the plugins merged, or `ID.zip` when the student uploaded one zip."""
    dest = out / STAGE
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    try:
        for student, inner, read in _files(source):
            target = dest / student.id / inner
            if not inner or not target.resolve().is_relative_to((dest / student.id).resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read())
    except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as e:
        raise MoodleError(f"cannot read the Moodle download {source} ({e})") from None
    for folder in list(dest.iterdir()):
        uploaded = [p for p in folder.rglob("*") if p.is_file() and p.name != "onlinetext.html"]
        if len(uploaded) == 1 and uploaded[0].suffix.lower() == ".zip":
            uploaded[0].rename(dest / f"{folder.name}.zip")
            shutil.rmtree(folder)
    return dest
