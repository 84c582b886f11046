"""`grade review OUT`: mark the written answers of a batch in the browser
(`grader.written.review`)."""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

from grader.written.questions import QuestionsError, of_lab
from grader.written.review import Review
from grader.written.store import path_in


def main(args) -> int:
    from grader.labs import current

    out = Path(args.out)
    if not path_in(out).exists():
        print(
            f"grade review: {path_in(out)} not found: "
            f"run `grade batch CLASS_DIR --out {out}` first",
            file=sys.stderr,
        )
        return 2
    try:
        questions = of_lab(current())
    except QuestionsError as e:
        print(f"grade review: {e}", file=sys.stderr)
        return 2
    if questions is None:
        print("grade review: this lab declares no written question", file=sys.stderr)
        return 2
    try:
        server = Review(out, questions, args.port)
    except OSError as e:
        print(
            f"grade review: cannot listen on 127.0.0.1:{args.port} ({e.strerror or e})",
            file=sys.stderr,
        )
        return 2
    print(
        f"Marking the written answers of {len(server.store.students())} students at\n"
        f"  {server.url}\n"
        f"Each mark is saved at once in {path_in(out)}; Ctrl-C stops the server. "
        "Rerun `grade batch` to merge the marks.",
        flush=True,
    )
    if args.open:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
