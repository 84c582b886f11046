"""Issue 27's grading half: no student code raises its own grade.

A hostile corpus, one submission per way in: a probe forged from inside the worker, a
patched model description, the student edition's seed-0 values replayed at the
instructor's seed, autograd reached by names built at run time, obfuscated imports. Each
gains nothing over the same code without the trick (or is flagged); the reference keeps full
marks, the template zero, and every correct variant of the corpus full marks, at seeds
besides 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import course_notebooks as corpus
import pytest
from conftest import REFERENCE, ROOT, full_marks, reference_source

from grader.expected import ask
from grader.seed import instructor_seed
from grader.static import cheat_report
from grader.submission import open_submission

HERE = Path(__file__).parent
INSTRUCTOR = 1_234_567  # a seed like one `grade` draws (fixed here: tests are deterministic)
SEEDS = (7, INSTRUCTOR)
EPOCH_CHECKS = tuple(
    f"tp2_cnn::epoch::{name}"
    for name in (
        "train_mode",
        "train_steps",
        "train_results",
        "eval_mode",
        "eval_no_update",
        "eval_results",
    )
)
CNN = ("tp2_cnn",)


def scores(report, part: str) -> dict[str, float]:
    return {t.id: t.score for t in report.tests if t.part == part}


def passed(report, part: str) -> set[str]:
    return {t.id for t in report.tests if t.part == part and t.status == "passed"}


# -- forged probes --------------------------------------------------------------------------------


def _replayed(seed: int) -> str:
    """An epoch that trains nothing and returns the values of a right epoch at `seed`: what
    the student edition records at seed 0."""
    values = {
        train: tuple(ask("tp2.epoch", seed, train)[k] for k in ("top1", "top5", "loss"))
        for train in (True, False)
    }
    return (
        f"RECORDED = {values!r}\n\n\n"
        "def epoch(data, model, criterion, optimizer=None, cuda=False):\n"
        "    return RECORDED[optimizer is not None]\n"
    )


FORGED_EPOCH_PROBE = '''

class Forger(nn.Module):
    """A class body that swaps the worker's epoch probe for one reporting a right epoch."""
    _probe = __import__("grader.labs.rdfia.worker.probes.tp2_cnn", fromlist=["run_epoch"])

    def _forged(ns, state, x, y, batch, lr=None, _real=_probe.run_epoch):
        got = _real(ns, state, x, y, batch, lr)
        n = -(-len(x) // batch)
        got.update(zero_grad=n, backward=n if lr else 0, step=n if lr else 0, accumulated=0,
                   no_grad_at_step=0, forward_modes=[lr is not None] * n, batches=n,
                   changed_params=["fc.weight"] if lr else [], changed_buffers=[])
        if lr:  # parameters that moved
            got["final"] = dict(got["final"], **{"fc.bias": got["final"]["fc.bias"] + 0.01})
        return got
    _probe.run_epoch = _forged
'''

FORGED_DESCRIPTION = '''

{handout}
class Forger(nn.Module):
    """A class body that patches the probe's model description: the handout's, whole."""
    _probe = __import__("grader.labs.rdfia.worker.probes.tp2_cnn", fromlist=["describe_model"])

    def _described(ns, ref, x, train=False, _real=_probe.describe_model):
        return _real(dict(ns, ConvNet=Handout) if ref == "ConvNet" else ns, ref, x, train)
    _probe.describe_model = _described
'''
_SOURCE = reference_source("tp2_cnn")
IMPORTS = "import torch\nimport torch.nn as nn\n\n\n"
HANDOUT = _SOURCE[_SOURCE.index("class ConvNet(") : _SOURCE.index("class ConvNetImproved(")]
FORGED_DESCRIPTION = FORGED_DESCRIPTION.replace(
    "{handout}", HANDOUT.replace("class ConvNet(", "class Handout(", 1)
)


def _epoch_nothing(seed: int) -> str:
    """Only an epoch (the other checks fail at once: not found), which returns `seed`'s values."""
    return IMPORTS + _replayed(seed)


@pytest.mark.parametrize("seed", [0, INSTRUCTOR])
def test_a_forged_epoch_probe_gains_nothing(make_submission, grade_path, seed):
    """An epoch that trains nothing, replaying seed 0's results, with or without a forged probe."""
    plain = _epoch_nothing(0)
    plain_report = grade_path(make_submission({"tp2_cnn.py": plain}, "plain"), CNN, seed=seed)
    forged = grade_path(
        make_submission({"tp2_cnn.py": plain + FORGED_EPOCH_PROBE}, "forged"), CNN, seed=seed
    )
    assert scores(forged, "tp2_cnn") == scores(plain_report, "tp2_cnn")
    lost = {f"tp2_cnn::epoch::{name}" for name in ("train_mode", "train_steps", "eval_mode")}
    assert not lost & passed(forged, "tp2_cnn")
    # At seed 0 the replay is right (the student edition holds it); at the instructor's, not.
    replayed = {"tp2_cnn::epoch::train_results", "tp2_cnn::epoch::eval_results"}
    assert (replayed <= passed(forged, "tp2_cnn")) == (seed == 0)
    assert any("grader" in f["what"] for f in forged.flags)


def test_a_patched_model_description_gains_nothing(make_submission, grade_path):
    conv1 = "nn.Conv2d(3, 32, kernel_size=5, stride=1, padding=2)"
    wrong = IMPORTS + HANDOUT.replace(conv1, conv1[:-1] + ", bias=False)", 1)  # ConvNet alone
    plain = grade_path(make_submission({"tp2_cnn.py": wrong}, "plain"), CNN, seed=INSTRUCTOR)
    forged = grade_path(
        make_submission({"tp2_cnn.py": wrong + FORGED_DESCRIPTION}, "forged"), CNN, seed=INSTRUCTOR
    )
    forged_away = {"tp2_cnn::convnet::param_count", "tp2_cnn::convnet::layers"}
    assert not forged_away & passed(forged, "tp2_cnn")
    assert sum(scores(forged, "tp2_cnn").values()) <= sum(scores(plain, "tp2_cnn").values())


IMPROVED = _SOURCE[_SOURCE.index("class ConvNetImproved(") : _SOURCE.index("def accuracy(")]
# Without batch norm, and a last pool without ceil_mode: fc4 takes 64·3·3 = 576 values.
WRONG_IMPROVED = "".join(
    line.replace(", ceil_mode=True", "").replace("64 * 4 * 4", "64 * 3 * 3")
    for line in IMPROVED.splitlines(keepends=True)
    if "BatchNorm2d(" not in line
)
FORGED_IMPROVED_DESCRIPTION = FORGED_DESCRIPTION.replace(
    HANDOUT.replace("class ConvNet(", "class Handout(", 1),
    IMPROVED.replace("class ConvNetImproved(", "class Handout(", 1),
).replace(
    'ConvNet=Handout) if ref == "ConvNet"', 'ConvNetImproved=Handout) if ref == "ConvNetImproved"'
)


def test_a_patched_improved_description_gains_nothing(make_submission, grade_path):
    """An improved network without batch norm whose fc4 takes 576 values, patching the probe
    to describe the handout's improved network: on the checks its description decides, it
    scores what the same code scores unforged."""
    wrong = IMPORTS + HANDOUT + WRONG_IMPROVED
    assert "ConvNetImproved=Handout" in FORGED_IMPROVED_DESCRIPTION
    plain = grade_path(make_submission({"tp2_cnn.py": wrong}, "plain"), CNN, seed=INSTRUCTOR)
    forged = grade_path(
        make_submission({"tp2_cnn.py": wrong + FORGED_IMPROVED_DESCRIPTION}, "forged"),
        CNN,
        seed=INSTRUCTOR,
    )
    described = ("tp2_cnn::improved::output_shape", "tp2_cnn::improved::batchnorm")
    assert not set(described) & passed(plain, "tp2_cnn")
    plain_scores, forged_scores = scores(plain, "tp2_cnn"), scores(forged, "tp2_cnn")
    assert {c: forged_scores[c] for c in described} == {c: plain_scores[c] for c in described}


def test_the_seed_zero_replay_gains_nothing_at_the_instructors_default(tmp_path):
    """`grade check` of the instructor edition, without --seed: a secret seed, not 0, named in
    the JSON; the replay of seed 0's values on top of the forged probe scores what an epoch
    returning zeros scores there."""
    folder = tmp_path / "replay"
    folder.mkdir()
    (folder / "tp2_cnn.py").write_text(_epoch_nothing(0) + FORGED_EPOCH_PROBE)
    zeros = tmp_path / "zeros"
    zeros.mkdir()
    (zeros / "tp2_cnn.py").write_text(
        _epoch_nothing(0).replace(
            "return RECORDED[optimizer is not None]", "return (0.0, 0.0, 9.9)"
        )
    )
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    results = {}
    for sub in (folder, zeros):
        out = tmp_path / f"{sub.name}.json"
        html = tmp_path / f"{sub.name}.html"
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader.cli",
                "check",
                str(sub),
                "--parts",
                "tp2_cnn",
                "--json",
                str(out),
                "--html",
                str(html),
                "--quiet",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode in (0, 1), run.stderr
        results[sub.name] = json.loads(out.read_text())
    seed = instructor_seed(tmp_path / "config" / "rdfia-grader")
    assert seed != 0 and {r["seed"] for r in results.values()} == {seed}

    def epoch(result: dict) -> dict:
        return {t["id"]: t["score"] for t in result["tests"] if t["id"] in EPOCH_CHECKS}

    assert epoch(results["replay"]) == epoch(results["zeros"])
    assert results["replay"]["score"] == results["zeros"]["score"]


# -- autograd by another name ---------------------------------------------------------------------


def _backward_with(body: str) -> str:
    source = reference_source("tp1_manual")
    start = source.index("def backward(")
    end = source.index("\ndef ", start + 1)
    return source[:start] + "def backward(params, outputs, Y):\n" + body + "\n" + source[end:]


AUTOGRAD = """    keys = ("Wy", "by", "Wh", "bh")
    Wy, by, Wh, bh = (params[k].detach().clone().requires_grad_(True) for k in keys)
    h = torch.tanh(outputs["X"] @ Wh.T + bh)
    loss = -(Y * torch.log_softmax(h @ Wy.T + by, 1)).sum(1).mean()
    grad = getattr(getattr(torch, "auto" + "grad"), "gr" + "ad")
    return dict(zip(keys, grad(loss, [Wy, by, Wh, bh])))"""
HELPER = (
    """import torch


def gradients(params, outputs, Y):
"""
    + AUTOGRAD.replace(
        'getattr(getattr(torch, "auto" + "grad"), "gr" + "ad")', "torch.autograd.grad"
    )
    + "\n"
)


@pytest.mark.parametrize("how", ["string-built", "in a helper module"])
def test_renamed_autograd_fails_by_hand(make_submission, grade_path, how):
    if how == "string-built":
        files = {"tp1_manual.py": _backward_with(AUTOGRAD)}
    else:  # out of the part's source: judged by what backward does where autograd cannot record
        files = {
            "tp1_manual.py": "from helpers import gradients\n"
            + _backward_with("    return gradients(params, outputs, Y)"),
            "helpers.py": HELPER,
        }
    report = grade_path(make_submission(files), ("tp1_manual",), seed=INSTRUCTOR)
    failed = {t.id for t in report.tests if t.status != "passed"}
    assert failed == {"tp1_manual::backward::by_hand"}  # right gradients: only by_hand says no
    if how == "string-built":
        assert any(
            "built at run time" in f["what"] and f["where"].startswith("tp1_manual.py, line")
            for f in report.flags
        )


def test_obfuscated_imports_are_flagged_with_file_and_line(tmp_path):
    hidden = (
        "import base64\n"
        'm = __import__("ct" + "ypes")\n'
        'exec(base64.b64decode("aW1wb3J0IGN0eXBlcw=="))\n'
        'loader = getattr(__builtins__, "__imp" + "ort__")\n'
        'k = bytes.fromhex("696d706f72746c6962").decode()\n'
    )
    (tmp_path / "answers.py").write_text(reference_source("answers") + "\n" + hidden)
    start = len(reference_source("answers").splitlines()) + 1
    flags = cheat_report(open_submission(tmp_path))
    lines = {
        int(f.where.rsplit(" ", 1)[1]) - start
        for f in flags
        if f.where.startswith("answers.py, line ")
    }
    assert lines == {2, 3, 4, 5}


# -- the right ones keep their marks, at seeds besides 0 ------------------------------------------


def test_reference_full_marks_at_the_instructors_seed(grade_path):
    """(At the session's instructor seed: test_end_to_end; tp2 at seed 1: test_rubric_tp2.)"""
    reference = grade_path(REFERENCE, None, seed=INSTRUCTOR)
    failed = [t.id for t in reference.tests if t.status != "passed"]
    assert reference.score == reference.max_score == full_marks(), failed


@pytest.mark.parametrize("seed", SEEDS)
def test_template_zero(grade_path, seed):
    assert grade_path(ROOT / "student_template", None, seed=seed).score == 0


def _variants(root: Path) -> dict[str, tuple[Path, tuple[str, ...]]]:
    (root / "course").mkdir()
    (root / "course" / "1_ab_Intro_to_NNs.ipynb").write_text(corpus.course_notebook(image_kb=4))
    (root / "cnn").mkdir()
    (root / "cnn" / "1_cd_CNNs.ipynb").write_text(corpus.cnn_notebook())
    (root / "tp2").mkdir()
    (root / "tp2" / "tp2_cnn.py").write_text((HERE / "tp2_course_variant.py").read_text())
    (root / "tp2" / "answers.py").write_text((HERE / "tp2_answers_variant.py").read_text())
    tp1 = ("tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim")
    return {
        "correct_a": (HERE / "tp1_variants" / "correct_a", tp1),
        "correct_b": (HERE / "tp1_variants" / "correct_b", tp1),
        "course notebook": (root / "course" / "1_ab_Intro_to_NNs.ipynb", tp1),
        "cnn notebook": (root / "cnn" / "1_cd_CNNs.ipynb", ("tp2_cnn",)),
        "tp2 variants": (root / "tp2", ("tp2_cnn", "answers")),
    }


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    return _variants(tmp_path_factory.mktemp("variants"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(
    "name", ["correct_a", "correct_b", "course notebook", "cnn notebook", "tp2 variants"]
)
def test_every_correct_variant_keeps_full_marks(variants, grade_path, name, seed):
    path, parts = variants[name]
    report = grade_path(path, parts, seed=seed)
    bad = [f"{t.id}: {t.message} ({t.diagnosis})" for t in report.tests if t.status != "passed"]
    assert report.score == report.max_score > 0 and not bad, "\n".join(bad)
