"""`grade review OUT`: mark the written answers question by question in the browser.

A local web server (loopback only) whose address carries a random token, as Jupyter's
does: a request without it is refused, and so is one naming another host (DNS
rebinding). Each mark is written at once to OUT/written/marks.sqlite, in a transaction."""

from __future__ import annotations

import hmac
import json
import re
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from grader.written.pages import render_index, render_question
from grader.written.questions import Questions
from grader.written.store import Mark, MarkStore, path_in

MAX_BODY = 1 << 20
PAGE = re.compile(r"^/(?P<key>[\w.-]+)\.html$")


class Review(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, out: Path, questions: Questions, port: int = 0, token: str | None = None):
        self.store = MarkStore(path_in(out))
        self.questions = questions
        self.token = token or secrets.token_urlsafe(24)
        super().__init__(("127.0.0.1", port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/index.html?token={self.token}"

    def server_close(self) -> None:
        super().server_close()
        self.store.close()


class Handler(BaseHTTPRequestHandler):
    server: Review

    def log_message(self, format, *args) -> None:  # the base class's name
        pass

    def _allowed(self, header_only: bool = False) -> bool:
        """The token in the address (a page) or, for a mark, in a header only a script can set."""
        port = self.server.server_address[1]
        if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return False
        given = self.headers.get("X-Token") or (
            "" if header_only else parse_qs(urlsplit(self.path).query).get("token", [""])[0]
        )
        return hmac.compare_digest(given.encode(), self.server.token.encode())

    def _send(self, status: int, body: str, kind: str = "text/html; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
        )
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if not self._allowed():
            return self._send(
                403,
                "Forbidden: open the address `grade review` printed, with its token.\n",
                "text/plain; charset=utf-8",
            )
        path = urlsplit(self.path).path
        store, questions = self.server.store, self.server.questions
        if path in ("/", "/index.html"):
            return self._send(200, render_index(store, questions, self.server.token))
        m = PAGE.match(path)
        question = questions.get(m["key"]) if m else None
        if question is None:
            return self._send(404, "No such page.\n", "text/plain; charset=utf-8")
        self._send(200, render_question(store, questions, question, self.server.token))

    def do_POST(self) -> None:
        if not self._allowed(header_only=True):
            return self._send(403, '{"error": "forbidden"}', "application/json")
        if urlsplit(self.path).path != "/api/mark":
            return self._send(404, '{"error": "no such endpoint"}', "application/json")
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= MAX_BODY:
                raise ValueError("empty or too large")
            marks = self._marks(json.loads(self.rfile.read(length)))
        except (ValueError, KeyError, TypeError) as e:
            return self._send(400, json.dumps({"error": str(e)}), "application/json")
        store = self.server.store
        store.set_marks(marks)
        question = marks[0].question
        done = store.marks(question)
        students = store.students()
        self._send(
            200,
            json.dumps(
                {
                    "saved": len(marks),
                    "students": len(students),
                    "marked": sum((s, question) in done for s in students),
                }
            ),
            "application/json",
        )

    def _marks(self, body: dict) -> list[Mark]:
        """The marks of a request, checked: a known question and students, a mark within
        the question's points, rubric items of its own."""
        question = self.server.questions.get(body["question"])
        if question is None:
            raise ValueError(f"no question {body['question']!r}")
        known = set(self.server.store.students())
        ids = {k.id for k in question.key_points}
        marks = []
        for m in body["marks"]:
            mark, items = float(m["mark"]), tuple(str(i) for i in m.get("items", []))
            if m["sid"] not in known or not 0 <= mark <= question.points or not set(items) <= ids:
                raise ValueError(
                    f"a mark out of range, or an unknown student or rubric item: {m['sid']!r}"
                )
            marks.append(
                Mark(
                    m["sid"],
                    question.key,
                    mark,
                    items,
                    str(m.get("comment", ""))[:5000],
                    str(m.get("digest", "")),
                )
            )
        if not marks:
            raise ValueError("no mark")
        return marks
