"""`from grader import check; check()` where the student works: in a notebook run by a real
Jupyter kernel (found by JPY_SESSION_NAME, as Jupyter Server sets it), and in Colab (a
stand-in of Colab's API on sys.path hands over the notebook as Colab holds it)."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT, full_marks
from filled import filled, with_cell
from nbclient import NotebookClient

from grader import inline

TEMPLATE = ROOT / "student_template" / "notebooks"
CHECK = 'from grader import check\nresult = check("tp1_manual")\nprint("SCORE", result.score, result.max_score)'


def grade_check(path, part: str, folder) -> dict:
    out = folder / "cli.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(path),
            "--parts",
            part,
            "--quiet",
            "--json",
            str(out),
            "--html",
            str(folder / "cli.html"),
        ],
        cwd=folder,
        capture_output=True,
        timeout=600,
    )
    return json.loads(out.read_text())


def test_check_in_a_running_notebook_grades_it_as_grade_check_does(tmp_path, monkeypatch):
    path = tmp_path / "1-ab.ipynb"
    path.write_text(with_cell(filled(TEMPLATE / "1-ab.ipynb", ("tp1_manual",)), CHECK))
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    monkeypatch.delenv(inline.ENV, raising=False)
    notebook = nbformat.read(path, as_version=4)
    last = notebook.cells[-1]
    notebook.cells = [last]  # the check cell alone: the kernel needs none of the others
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = last.outputs
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    shown = [o for o in outputs if o.output_type == "display_data" and "text/html" in o.data]
    assert shown and "<iframe srcdoc=" in shown[0].data["text/html"], outputs
    assert "1-ab.ipynb, as last saved" in shown[0].data["text/html"]
    expected = grade_check(path, "tp1_manual", tmp_path)
    assert expected["score"] == expected["max_score"] == full_marks("tp1_manual")
    assert f"SCORE {expected['score']} {expected['max_score']}" in printed


@pytest.fixture
def colab(tmp_path, monkeypatch):
    """A stand-in of `google.colab._message`: `blocking_request("get_ipynb")` answers what
    `COLAB_NOTEBOOK` (a file) holds, or raises as when Colab's front end does not answer."""
    package = tmp_path / "standin" / "google" / "colab"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "_message.py").write_text(
        "import json, os\n"
        "def blocking_request(request_type, request='', timeout_sec=5, parent=None):\n"
        "    assert request_type == 'get_ipynb'\n"
        "    if not os.environ.get('COLAB_NOTEBOOK'):\n"
        "        raise TimeoutError('no answer from the front end')\n"
        "    return {'ipynb': json.load(open(os.environ['COLAB_NOTEBOOK']))}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "standin"))
    for name in [m for m in sys.modules if m == "google" or m.startswith("google.")]:
        monkeypatch.delitem(sys.modules, name)
    for var in (inline.ENV, "JPY_SESSION_NAME"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_check_in_colab_grades_the_notebook_colab_holds(tmp_path, colab, capsys):
    held = tmp_path / "held.ipynb"
    held.write_text(filled(TEMPLATE / "answers.ipynb"))
    colab.setenv("COLAB_NOTEBOOK", str(held))
    result = inline.check(
        "answers"
    )  # the answers filled from the reference: full marks, as grade check gives
    assert result is not None and (result.score, result.max_score) == (full_marks("answers"),) * 2
    assert result.report["parts"][0]["source"] == "colab.ipynb"


def test_check_in_colab_says_what_to_do_when_colab_does_not_answer(colab, capsys):
    assert inline.check("answers") is None
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("grade: Colab did not hand over this notebook: save it")
        and len(err.splitlines()) == 1
    )
