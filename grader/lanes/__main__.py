"""`python -m grader.lanes FD`: a helper grading some lanes (`grader.lanes.helper`).

It reads its request on stdin, one JSON object: the submission's path (it opens it again and
refuses it unless the digest is the same), the seed, the parts, the limits and the workers'
imports. FD is its channel to the zygote, which forks its workers. It writes
`{"report", "weaknesses"}` on stdout, a file; its stderr keeps its last words."""

from __future__ import annotations

import json
import socket
import sys

from grader.lanes.scheduler import grade_here
from grader.results import to_dict
from grader.sandbox import Limits, Sandbox
from grader.sandbox.sandboxes import Sandboxes


def main() -> None:
    request = json.load(sys.stdin)
    from grader.sandbox.zygote import Connection
    from grader.submission import open_submission

    zygote = Connection(socket.socket(fileno=int(sys.argv[1])))
    submission = open_submission(request["path"])
    if submission.digest != request["digest"]:
        sys.exit("the submission changed while it was graded")
    limits, imports, parts = (
        Limits(**request["limits"]),
        tuple(request["imports"]),
        tuple(request["parts"]),
    )
    sandboxes = Sandboxes(lambda: Sandbox(limits, submission.files, zygote, imports))
    report, weaknesses = grade_here(submission, request["seed"], limits, parts, sandboxes)
    json.dump({"report": to_dict(report), "weaknesses": weaknesses}, sys.stdout)
    sys.stdout.flush()
    zygote.close()


if __name__ == "__main__":
    main()
