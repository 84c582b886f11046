"""A submission, as the grader sees it before any of it runs: which part is where.

`open_submission(path, lab)` reads a folder, a notebook or a zip and finds each part
of the lab (first match wins):
1. a module named like the part (`tp1_manual.py`);
2. a notebook named like the part (`tp1_manual.ipynb`);
3. a notebook whose headings follow the lab's split rule: the parts it names;
4. any other notebook or module: the part whose declared names it defines most.
"""

from __future__ import annotations

import ast
import codecs
import hashlib
import io
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.copies import Copy, replace_in_submission
from grader.lab import Lab
from grader.labs import current
from grader.submission.files import SubmissionError, read_submission
from grader.submission.notebook import Notebook, NotebookError
from grader.submission.selfcheck import without_self_check
from grader.submission.template import started
from grader.suggest import suggest
from grader.worker.syntax import Chunk

__all__ = ["Submission", "SubmissionError", "open_submission", "submission_name"]


@dataclass
class Submission:
    name: str
    lab: Lab
    parts: dict[str, list[Chunk]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # part -> where it was found
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # files that could not be used
    ignored: dict[str, list[dict]] = field(
        default_factory=dict
    )  # part -> [{"source", "why"}] not graded
    not_started: set[str] = field(default_factory=set)  # parts identical to the template
    digest: str = ""
    copies: list[Copy] = field(default_factory=list)  # course definitions the grader's replace

    def missing_note(self, part: str) -> str:
        """`tp1_nn` not found in the submission, with the near misses there are."""
        stems = [PurePosixPath(f).stem for f in self.files]
        near = [s for s in suggest(part, stems) if s not in self.parts]
        hint = (
            f"; did you mean {' or '.join(f'`{s}`' for s in near)}? (files must be named like the part)"
            if near
            else ""
        )
        split = self.lab.split
        combined = (
            f", or a {self.lab.assignment_of(part).title} notebook with headings {split.headings()}"
            if split and part in split.parts
            else ""
        )
        return f"`{part}` not found in the submission: expected {part}.py, {part}.ipynb{combined}{hint}"


def _defined(chunks: list[Chunk]) -> set[str]:
    names = set()
    for chunk in chunks:
        try:
            tree = ast.parse(chunk.code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _best_part(chunks: list[Chunk], taken: dict, lab: Lab) -> str | None:
    """The part whose names the chunks define the largest share of. One name is enough:
    the course's `1_cd_CNNs.ipynb` defines `ConvNet` and `epoch` but none of the others."""
    names = _defined(chunks)
    scores = {
        p.name: len(names & set(p.defines)) / len(p.defines)
        for p in lab.parts
        if p.name not in taken
    }
    best = max(scores, key=lambda p: scores[p], default=None)
    return best if best and scores[best] > 0 else None


def _text(path: str, data: bytes, notes: list[str]) -> str:
    """The source as Python reads it (a `coding:` line is honoured); a file that is not
    UTF-8 (an editor's Latin-1 or cp1252) is read as cp1252 rather than lost."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding).removeprefix("\ufeff")
    except (SyntaxError, UnicodeDecodeError, LookupError):
        pass
    notes.append(f"{path} is not UTF-8 text; it was read as Windows-1252 (cp1252)")
    return codecs.decode(data, "cp1252", errors="replace")


def stem(rel: str) -> str:
    return PurePosixPath(rel).stem


def by_depth(files) -> list[str]:
    """Top-level files first: a copy in a sub-folder does not shadow them."""
    return sorted(files, key=lambda rel: (rel.count("/"), rel))


def submission_name(path: str | Path) -> str:
    """The name of the report: the folder's or the file's own (`grade check .` is named
    after the folder it means; a symbolic link keeps its own name)."""
    path = Path(os.path.abspath(path))
    name = (
        path.name.removesuffix(".zip").removesuffix(".ipynb") if path.suffix != ".py" else path.stem
    )
    return name or str(path)


def open_submission(path: str | Path, lab: Lab | None = None) -> Submission:
    path, lab = Path(path), lab or current()
    files = read_submission(path)
    sub = Submission(
        name=submission_name(path),
        lab=lab,
        files=files,
        digest=hashlib.sha256(
            b"".join(k.encode() + b"\0" + files[k] for k in sorted(files))
        ).hexdigest()[:16],
    )
    modules, notebooks = {}, {}
    for rel, data in files.items():
        if rel.endswith(".py"):
            modules[rel] = [Chunk(PurePosixPath(rel).name, _text(rel, data, sub.notes))]
        else:
            try:
                notebooks[rel] = Notebook(PurePosixPath(rel).name, data)
                notebooks[rel].chunks = without_self_check(notebooks[rel].chunks)
            except NotebookError as e:
                sub.notes.append(str(e))
    if path.suffix in (".ipynb", ".py") and not modules and not notebooks:
        raise SubmissionError(sub.notes[0] if sub.notes else f"{path} holds no code")
    sub.copies = replace_in_submission(sub.files, modules, notebooks, lab)

    candidates: dict[
        str, list[tuple[str, list[Chunk]]]
    ] = {}  # part -> (source, chunks), in the contract's order

    def take(part: str, chunks: list[Chunk], source: str):
        candidates.setdefault(part, []).append((source, chunks))
        sub.parts.setdefault(part, chunks)  # the rules below see the parts found so far

    parts = lab.part_names
    for rel in by_depth(modules):
        if stem(rel) in parts:
            take(stem(rel), modules[rel], rel)
    for rel in by_depth(notebooks):
        if stem(rel) in parts:
            take(stem(rel), notebooks[rel].all_chunks(), rel)
    for rel in by_depth(notebooks):
        split = notebooks[rel].split_parts(lab.split) if stem(rel) not in parts else None
        for k, (part, chunks) in enumerate((split or {}).items(), start=1):
            take(part, chunks, f"{rel}, {lab.split.label} {k}")
    for rel in by_depth(notebooks):
        if stem(rel) not in parts and notebooks[rel].split_parts(lab.split) is None:
            part = _best_part(notebooks[rel].all_chunks(), sub.parts, lab)
            if part:
                take(part, notebooks[rel].all_chunks(), rel)
    if path.suffix == ".py" and not sub.parts:
        part = _best_part(next(iter(modules.values())), sub.parts, lab)
        if part:
            take(part, next(iter(modules.values())), path.name)
    _choose(sub, candidates)
    return sub


def _choose(sub: Submission, candidates: dict[str, list[tuple[str, list[Chunk]]]]) -> None:
    """Each part from the first of its files that the student started (the first of all when
    none is), and why each other file is ignored; a note when two started files disagree."""
    both: list[
        tuple[str, str, str]
    ] = []  # (part, source, why) of the written files another one outranks
    for part, found in candidates.items():
        begun = [started(sub.lab, part, chunks) for _, chunks in found]
        chosen = begun.index(True) if any(begun) else 0
        (source, sub.parts[part]), sub.sources[part] = found[chosen], found[chosen][0]
        if not begun[chosen]:
            sub.not_started.add(part)
        for k, (other, _) in enumerate(found):
            if k == chosen:
                continue
            why = (
                f"also written; {source} comes first in the contract's order"
                if begun[k]
                else "the template as handed out"
            )
            sub.ignored.setdefault(part, []).append({"source": other, "why": why})
            if begun[k]:
                both.append((part, other, why))
    if len(both) == 1:
        ((part, other, why),) = both
        sub.notes.append(
            f"two files hold `{part}`: {sub.sources[part]} is graded, {other} is ignored ({why})"
        )
    elif both:  # one note, a file a line
        sub.notes.append(
            f"{len(both)} files hold a part that another file holds, and are ignored:"
            + "".join(
                f"\n    {other} (`{part}`: {sub.sources[part]} is graded)"
                for part, other, _ in sorted(both, key=lambda b: b[1])
            )
        )
