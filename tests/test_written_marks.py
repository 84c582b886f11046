"""The written questions file, the marks store, the review server's guard, suggestions made
again only for answers that changed, and the merge into the batch's outputs."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import written_corpus as corpus

from grader.written import merge as merging
from grader.written.collect import collect
from grader.written.pages import render_question
from grader.written.questions import QuestionsError, load, parse
from grader.written.review import Review
from grader.written.store import Mark, MarkStore, path_in

Q = corpus.QUESTIONS


def test_the_lab_declares_every_handout_question_with_a_rubric():
    assert [q.number for q in Q.of("1-ab")] == list(range(1, 18))
    assert [q.number for q in Q.of("1-cd")] == list(range(1, 35))
    for q in Q.questions:
        assert q.summary and q.points > 0 and q.key_points, q.label
        assert all(k.phrases and k.weight > 0 for k in q.key_points), q.label


@pytest.mark.parametrize(
    "data, says",
    [
        (
            {
                "handouts": {"a": {}},
                "question": [{"handout": "b", "number": 1, "points": 1, "summary": "s"}],
            },
            "not declared",
        ),
        (
            {
                "handouts": {"a": {}},
                "question": [{"handout": "a", "number": 1, "points": 0, "summary": "s"}],
            },
            "above 0",
        ),
        (
            {"handouts": {"a": {}}, "question": [{"handout": "a", "number": 1, "summary": "s"}]},
            "malformed",
        ),
    ],
)
def test_a_bad_questions_file_is_one_clear_line(data, says):
    with pytest.raises(QuestionsError, match=says):
        parse(data)


def test_a_missing_questions_file_says_which_edition(tmp_path):
    with pytest.raises(QuestionsError, match="not in this edition"):
        load(tmp_path / "nothing.toml")


def make_class(root: Path, reports: dict[str, str]) -> list[tuple[str, Path]]:
    for sid, text in reports.items():
        (root / sid).mkdir(parents=True)
        (root / sid / "report.md").write_text(text)
    return [(sid, root / sid) for sid in reports]


@pytest.fixture
def marked(tmp_path):
    """A class of three, collected (no code graded), and its store."""
    entries = make_class(
        tmp_path / "class",
        {
            "ann": corpus.bold_markdown({"1-ab": corpus.plan("1-ab")}),
            "ben": corpus.paren_lines({"1-ab": corpus.plan("1-ab", skip=(3,))}),
            "cat": "nothing numbered here\n",
        },
    )
    store, fresh = collect(tmp_path / "out", entries, Q)
    yield tmp_path, entries, store, fresh
    store.close()


def test_a_rerun_suggests_again_only_the_answers_that_changed(marked, monkeypatch):
    tmp_path, entries, store, fresh = marked
    from grader.written import collect as collecting
    from grader.written.reading import read_report

    read = []
    monkeypatch.setattr(
        collecting, "read_report", lambda path: read.append(path.name) or read_report(path)
    )
    assert fresh == 17 + 16  # every answer of ann and ben (ben skips Q3)
    answer = store.answers("1-ab-Q3")["ann"]
    store.set_marks([Mark("ann", "1-ab-Q3", 1.0, ("k1",), "good", answer["digest"])])
    store.close()
    assert collect(tmp_path / "out", entries, Q)[1] == 0
    report = tmp_path / "class" / "ann" / "report.md"
    report.write_text(report.read_text().replace("[1-ab#3]", "[1-ab#3] and one more sentence"))
    store, fresh = collect(tmp_path / "out", entries, Q)
    assert fresh == 1 and read == ["ann"]  # the unchanged reports are not read again
    assert store.marks()["ann", "1-ab-Q3"].mark == 1.0  # the mark is kept
    assert "changed since it was marked" in render_question(store, Q, Q.get("1-ab-Q3"))
    assert store.notes()["cat"] == [
        "report.md: no numbered answer found: the report could not be split"
    ]
    store.close()


def test_marks_merge_into_every_output_once(marked):
    tmp_path, _, store, _ = marked
    out = tmp_path / "out"
    (out / "grades.csv").write_text(
        "id,total,max,status,error\nann,1,2,ok,\nben,0,2,ok,\ncat,0,2,ok,\n", encoding="utf-8-sig"
    )
    (out / "gradescope").mkdir()
    (out / "gradescope" / "ann.json").write_text(
        json.dumps({"score": 1, "tests": [{"number": "x", "score": 1}]})
    )
    (out / "summary.html").write_text("<html><body><main></main></body></html>")
    (out / "reports").mkdir(exist_ok=True)
    for sid in ("ann", "ben"):
        (out / "reports" / f"{sid}.html").write_text(
            "<html><body><main><p>code</p></main></body></html>"
        )
    store.set_marks(
        [
            Mark("ann", "1-ab-Q3", 0.5, ("k2",), "Say why it stays linear.", ""),
            Mark("ann", "1-ab-Q15", 2.0, (), "", ""),
        ]
    )
    for _ in range(2):  # idempotent: a rerun changes nothing more
        merging.merge(out, store, Q)
    rows = (out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()
    header = rows[0].split(",")
    ann = dict(zip(header, rows[1].split(","), strict=True))
    ben = dict(zip(header, rows[2].split(","), strict=True))
    assert header.count("written") == 1 and ann["written"] == "2.5" and ann["written_max"] == "3"
    assert ann["1-ab Q3"] == "0.5" and ann["1-ab Q15"] == "2" and ann["1-ab Q4"] == ""
    assert ben["written"] == "" and all(ben[q.label] == "" for q in Q.questions)
    gradescope = json.loads((out / "gradescope" / "ann.json").read_text())
    assert gradescope["score"] == 3.5 and len(gradescope["tests"]) == 3
    report = (out / "reports" / "ann.html").read_text()
    assert report.count("Written answers") == 1 and "Say why it stays linear." in report
    assert Q.get("1-ab-Q3").key_points[1].text in report  # the item given, by name
    assert not any(
        p in report for k in Q.get("1-ab-Q3").key_points for p in k.phrases if len(p) > 12
    )
    assert (
        "Written answers" not in (out / "reports" / "ben.html").read_text()
    )  # nothing before a mark
    assert (out / "summary.html").read_text().count('id="written"') == 1


def _request(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=data, headers=headers or {})
        ) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def server(marked):
    tmp_path = marked[0]
    review = Review(tmp_path / "out", Q)
    thread = threading.Thread(target=review.serve_forever, daemon=True)
    thread.start()
    yield review
    review.shutdown()
    review.server_close()


def test_the_review_server_wants_its_token_and_its_own_host(server):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    assert _request(server.url) == 200
    assert _request(f"{base}/1-ab-Q3.html") == 403
    assert _request(f"{base}/1-ab-Q3.html?token=wrong") == 403
    assert (
        _request(f"{base}/1-ab-Q3.html?token={server.token}", headers={"Host": "evil.example:80"})
        == 403
    )
    body = json.dumps({"question": "1-ab-Q3", "marks": [{"sid": "ann", "mark": 1}]}).encode()
    assert (
        _request(f"{base}/api/mark?token={server.token}", body) == 403
    )  # a form post cannot set X-Token
    json_header = {"X-Token": server.token, "Content-Type": "application/json"}
    for bad in (
        {"sid": "ann", "mark": 5},
        {"sid": "nobody", "mark": 1},
        {"sid": "ann", "mark": 1, "items": ["k9"]},
    ):
        body = json.dumps({"question": "1-ab-Q3", "marks": [bad]}).encode()
        assert _request(f"{base}/api/mark", body, json_header) == 400
    assert _request(f"{base}/api/mark", b"{not json", json_header) == 400
    assert server.store.marks() == {}


def test_two_tabs_marking_at_once_lose_nothing(server, marked):
    base = f"http://127.0.0.1:{server.server_address[1]}/api/mark"
    headers = {"X-Token": server.token, "Content-Type": "application/json"}
    questions = [q.key for q in Q.questions]
    errors = []

    def tab(sid: str) -> None:
        for key in questions:
            body = json.dumps(
                {"question": key, "marks": [{"sid": sid, "mark": 0.5, "comment": key}]}
            ).encode()
            if _request(base, body, headers) != 200:
                errors.append(key)

    tabs = [threading.Thread(target=tab, args=(sid,)) for sid in ("ann", "ben")]
    for t in tabs:
        t.start()
    for t in tabs:
        t.join()
    assert not errors
    fresh = MarkStore(path_in(marked[0] / "out"))  # what is on disk, through another connection
    assert len(fresh.marks()) == 2 * len(questions)
    assert all(m.comment == m.question for m in fresh.marks().values())
    fresh.close()
