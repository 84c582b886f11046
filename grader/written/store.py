"""OUT/written/marks.sqlite: the answers found by the batch, their suggestions, and the
instructor's marks. SQLite in WAL mode, one transaction per mark (or per group marked at
once): a server killed mid-way, or two tabs marking at once, loses nothing. A batch rerun
replaces the answers and keeps every mark; suggestions are keyed by a digest of the answer
text, so that only answers that changed are suggested again."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (sid TEXT, question TEXT, text TEXT, digest TEXT, flags TEXT,
    together TEXT, PRIMARY KEY (sid, question));
CREATE TABLE IF NOT EXISTS students (sid TEXT PRIMARY KEY, notes TEXT, report TEXT);
CREATE TABLE IF NOT EXISTS suggestions (question TEXT, digest TEXT, found TEXT, mark REAL,
    misconceptions TEXT, PRIMARY KEY (question, digest));
CREATE TABLE IF NOT EXISTS marks (sid TEXT, question TEXT, mark REAL, items TEXT, comment TEXT,
    digest TEXT, updated TEXT, PRIMARY KEY (sid, question));
"""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Mark:
    sid: str
    question: str
    mark: float
    items: tuple[str, ...]  # key point ids ticked
    comment: str
    digest: str  # of the answer marked: it may change since


def path_in(out: Path) -> Path:
    return Path(out) / "written" / "marks.sqlite"


class MarkStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a mark acknowledged is on disk
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()  # the review server's threads share this connection

    def close(self) -> None:
        self.db.close()

    def _tx(self, statements: list[tuple[str, tuple]]) -> None:
        """The statements in one transaction: all of them or none."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self.db.execute(sql, args)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    # -- the batch's side
    def put_student(
        self,
        sid: str,
        answers: dict[str, tuple[str, list[str], tuple[str, ...]]],
        notes: list[str],
        report: str = "",
    ) -> None:
        """Replace one student's answers: question key -> (text, flags, answered together with);
        `report`: the digest of what they were read from."""
        rows = [
            ("DELETE FROM answers WHERE sid = ?", (sid,)),
            ("INSERT OR REPLACE INTO students VALUES (?, ?, ?)", (sid, json.dumps(notes), report)),
        ]
        rows += [
            (
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (sid, key, text, digest(text), json.dumps(flags), json.dumps(list(together))),
            )
            for key, (text, flags, together) in answers.items()
        ]
        self._tx(rows)

    def keep_students(self, sids: set[str]) -> None:
        """Forget the answers of students no longer in the class (their marks stay)."""
        gone = [s for s in self.students() if s not in sids]
        self._tx(
            [
                (sql, (s,))
                for s in gone
                for sql in (
                    "DELETE FROM answers WHERE sid = ?",
                    "DELETE FROM students WHERE sid = ?",
                )
            ]
        )

    def unsuggested(self) -> list[tuple[str, str, str]]:
        """(question, digest, text) of the answers not suggested yet."""
        return self._rows(
            "SELECT DISTINCT a.question, a.digest, a.text FROM answers a LEFT JOIN suggestions s "
            "ON a.question = s.question AND a.digest = s.digest WHERE s.digest IS NULL"
        )

    def put_suggestion(
        self, question: str, dig: str, found: tuple[str, ...], mark: float, wrong: tuple[str, ...]
    ) -> None:
        self._tx(
            [
                (
                    "INSERT OR REPLACE INTO suggestions VALUES (?, ?, ?, ?, ?)",
                    (question, dig, json.dumps(list(found)), mark, json.dumps(list(wrong))),
                )
            ]
        )

    # -- the marking side
    def set_marks(self, marks: list[Mark]) -> None:
        """Record marks (one, or a whole group) in one transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._tx(
            [
                (
                    "INSERT OR REPLACE INTO marks VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        m.sid,
                        m.question,
                        m.mark,
                        json.dumps(list(m.items)),
                        m.comment,
                        m.digest,
                        now,
                    ),
                )
                for m in marks
            ]
        )

    # -- reading
    def students(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT sid FROM students ORDER BY sid")]

    def reports(self) -> dict[str, str]:
        """Student -> the digest of the report their answers were read from."""
        return dict(self._rows("SELECT sid, report FROM students"))

    def notes(self) -> dict[str, list[str]]:
        return {sid: json.loads(n) for sid, n in self._rows("SELECT sid, notes FROM students")}

    def answers(self, question: str) -> dict[str, dict]:
        """sid -> {text, digest, flags, together, found, suggestion, misconceptions} of the
        answers to a question."""
        rows = self._rows(
            "SELECT a.sid, a.text, a.digest, a.flags, a.together, s.found, s.mark, "
            "s.misconceptions FROM answers a LEFT JOIN suggestions s "
            "ON a.question = s.question AND a.digest = s.digest WHERE a.question = ?",
            (question,),
        )
        return {
            sid: {
                "text": text,
                "digest": dig,
                "flags": json.loads(flags),
                "together": json.loads(together),
                "found": tuple(json.loads(found or "[]")),
                "suggestion": mark,
                "misconceptions": json.loads(wrong or "[]"),
            }
            for sid, text, dig, flags, together, found, mark, wrong in rows
        }

    def marks(self, question: str | None = None) -> dict[tuple[str, str], Mark]:
        sql = "SELECT sid, question, mark, items, comment, digest FROM marks"
        args: tuple[str, ...] = ()
        if question is not None:
            sql, args = sql + " WHERE question = ?", (question,)
        return {
            (sid, q): Mark(sid, q, mark, tuple(json.loads(items)), comment, dig)
            for sid, q, mark, items, comment, dig in self._rows(sql, args)
        }
