"""`from grader import check; check()` in a notebook: grade the notebook it runs in, where
the student works, and show the report below the cell.

The notebook is found where its front end says it is: `GRADER_NOTEBOOK` (a path, for any
other front end), VS Code's `__vsc_ipynb_file__`, `JPY_SESSION_NAME` (set by Jupyter
Server 2 for its kernels), Colab's own API (the notebook as Colab holds it: no file is
saved there), else the sessions of the running Jupyter servers, matched by this kernel's
id. It is graded as `grade check` grades (`grader.commands.check.run` over `grader.api.grade`), in a
process of its own (`python -m grader.inline`, its request as JSON on stdin), with the
sandboxed worker: never in the student's kernel, whose state does not count. A file is
graded as last saved.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ENV = "GRADER_NOTEBOOK"


class NotebookNotFound(Exception):
    """Where the notebook cannot be found; the message says what to do, in one sentence."""


@dataclass
class Checked:
    """What `check()` returns: the contract's JSON answer, and where the report is."""

    score: float
    max_score: float
    report: dict
    html: Path

    def __repr__(self) -> str:
        name = self.report.get("submission", "notebook")
        return f"{name}: {self.score:g} / {self.max_score:g} points"


def check(
    part: str | None = None, notebook: str | os.PathLike | None = None, timeout: float = 60.0
) -> Checked | None:
    """Grade this notebook (only `part`, given one, e.g. "tp1_manual") and show the report;
    None, with what to do in one sentence, where the notebook cannot be found."""
    with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
        try:
            path = Path(notebook) if notebook else find_notebook(Path(tmp))
        except NotebookNotFound as e:
            print(f"grade: {e}", file=sys.stderr)
            return None
        out = Path(tempfile.mkdtemp(prefix="grader-report-"))
        options = {"timeout": timeout, "parts": [part] if part else None}
        request = {
            "path": str(path),
            "options": options,
            "files": {"json": str(out / "report.json"), "html": str(out / "report.html")},
        }
        done = subprocess.run(
            [sys.executable, "-m", "grader.inline"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
        )
    if not (out / "report.html").exists() or done.returncode == 2:
        reason = done.stderr.strip().splitlines()[-1:] or ["grade check ended without a report"]
        raise RuntimeError(reason[0].removeprefix("grade: "))
    result = json.loads((out / "report.json").read_text())
    checked = Checked(result["score"], result["max_score"], result, out / "report.html")
    _show(checked, path, done.stdout.strip())
    return checked


def find_notebook(tmp: Path) -> Path:
    """The notebook this kernel runs, as a file (Colab's is written into `tmp`)."""
    user_ns = getattr(_ipython(), "user_ns", {})
    vscode = user_ns.get("__vsc_ipynb_file__")
    for candidate in (os.environ.get(ENV), vscode, os.environ.get("JPY_SESSION_NAME")):
        if candidate and Path(candidate).suffix == ".ipynb":
            # Jupyter's path may be relative to its root; the kernel runs in the notebook's folder.
            for path in (Path(candidate), Path.cwd() / Path(candidate).name):
                if path.is_file():
                    return path
            raise NotebookNotFound(
                f"{candidate} is not saved yet: save the notebook, then run check() again."
            )
    if "google.colab" in sys.modules or _importable("google.colab"):
        return _from_colab(tmp)
    found = _from_jupyter_servers()
    if found:
        return found
    raise NotebookNotFound(
        "check() cannot tell which notebook runs here: call "
        f"check(notebook='NAME.ipynb') or set {ENV} to its path."
    )


def _from_colab(tmp: Path) -> Path:
    """The notebook as Colab holds it (its front end answers `get_ipynb`)."""
    try:
        from google.colab import _message

        reply = _message.blocking_request("get_ipynb", request="", timeout_sec=30)
        notebook = reply["ipynb"]
    except Exception:  # noqa: BLE001 - whatever Colab's channel does wrong: one sentence
        raise NotebookNotFound(
            "Colab did not hand over this notebook: save it (File > Save), "
            "then run check() again, or download it and run grade check on it."
        ) from None
    path = tmp / "colab.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def _from_jupyter_servers() -> Path | None:
    """Jupyter's sessions API: the session whose kernel is this one names the notebook."""
    try:
        from ipykernel import get_connection_file

        kernel = Path(get_connection_file()).stem.removeprefix("kernel-")
        from jupyter_server.serverapp import list_running_servers
    except Exception:  # noqa: BLE001 - not a Jupyter kernel, or no Jupyter Server installed
        return None
    for server in list_running_servers():
        url = f"{server['url'].rstrip('/')}/api/sessions?token={server.get('token', '')}"
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                sessions = json.load(reply)
        except (OSError, ValueError):
            continue
        for session in sessions:
            if session.get("kernel", {}).get("id") == kernel:
                relative = session.get("path") or session.get("notebook", {}).get("path", "")
                return Path(server.get("root_dir") or server.get("notebook_dir", ".")) / relative
    return None


def _show(checked: Checked, path: Path, summary: str) -> None:
    """The report below the cell, in a frame of its own (its style stays out of the notebook)."""
    page = checked.html.read_text(encoding="utf-8")
    frame = (
        f"<p>{html.escape(summary)} ({html.escape(path.name)}, as last saved)</p>"
        f'<iframe srcdoc="{html.escape(page, quote=True)}" '
        'style="width:100%;height:640px;border:1px solid #d0d7de"></iframe>'
    )
    try:
        from IPython.display import HTML, display

        display(HTML(frame))
    except ImportError:
        print(summary)


def _ipython():
    try:
        from IPython import get_ipython

        return get_ipython()
    except ImportError:
        return None


def _importable(name: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def main() -> None:
    """`python -m grader.inline`: grade the request on stdin as `grade check --quiet` does,
    at the edition's default seed, and end with its exit status."""
    request = json.load(sys.stdin)
    from grader import api
    from grader.commands import check
    from grader.labs import LabError

    try:
        options = api.resolved(api.Options.from_dict(request["options"]))
        files = {name: Path(file) for name, file in request["files"].items()}
        code = check.run(request["path"], options, files, quiet=True)
    except (api.NotGraded, LabError) as e:
        print(f"grade: {e}", file=sys.stderr)
        code = 2
    sys.stdout.flush(), sys.stderr.flush()
    os._exit(code)  # as `grade check`: without the teardown of torch and pytest


if __name__ == "__main__":
    main()
