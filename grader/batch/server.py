"""`python -m grader.batch.server [FD]`: one long-lived grading process of `grade batch`.

It loads torch, pytest and the rubric once, then grades student after student as
`grade check` does (`grader.commands.check.run` over `grader.api.grade`, the same code),
each in a fresh sandboxed worker forked by a zygote (`grader.sandbox.zygote`): a worker of
its own, with its home, limits and isolation, killed with its cgroup after the student.
FD is a channel to the zygote that the batch's grading processes share; without it, this
process starts its own.
No student code ever runs here or in the zygote.

Protocol, one JSON line each way: `{"path": SUBMISSION, "options": {...}, "files": {FORMAT:
FILE}, "cwd": DIR}` (`grader.api.Options` as a dict, the files `grade check` writes) on stdin;
`{"code": EXIT_STATUS, "stderr": TEXT}` on stdout, after a first
line `ready` once loaded. What grading prints goes nowhere; the batch keeps the files.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import socket
import sys
import traceback
from pathlib import Path


def main() -> None:
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing else may write into the replies
    from grader.labs import current
    from grader.sandbox import Limits
    from grader.sandbox.zygote import Connection, Zygote

    imports = current().worker_imports
    if len(sys.argv) > 1:  # a channel to the zygote the batch's grading processes share
        zygote = Connection(socket.socket(fileno=int(sys.argv[1])))
    else:
        zygote = Zygote(Limits(), imports)  # it imports torch while this process does too
    import grader.runner  # noqa: F401 - torch, pytest and the rubric's imports, once
    from grader import api
    from grader.commands import check

    gc.freeze()  # they live as long as this process: no collection walks them again
    print("ready", file=replies, flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if not zygote.alive:  # it crashed: one of this process's own from now on
            zygote.close()
            zygote = Zygote(Limits(), imports)
        os.chdir(request["cwd"])
        said = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(said):
            try:
                files = {name: Path(file) for name, file in request["files"].items()}
                code = check.run(
                    request["path"], api.Options.from_dict(request["options"]), files, zygote=zygote
                )
            except Exception:  # noqa: BLE001 - as `grade check` ending on an exception: status 1
                traceback.print_exc()
                code = 1
        print(json.dumps({"code": code, "stderr": said.getvalue()}), file=replies, flush=True)
    zygote.close()


if __name__ == "__main__":
    main()
