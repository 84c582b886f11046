"""The TP 1-cd and answers rubrics: the reference scores full marks, a correct submission
in the course's style too, and each named mistake fails its check with its diagnosis.

Each grade starts a worker, so mistakes in independent functions share one mutated
submission; a grade whose ConvNet crashes also makes the short training run fail fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import course_notebooks as corpus
import pytest
from conftest import by_id, reference_source

from grader.artifacts import Curves
from grader.runner import grade
from grader.sandbox import Limits
from grader.submission import open_submission

HERE = Path(__file__).parent


def mutate_all(part: str, *changes: tuple[str, str], extra: str = "") -> str:
    """The reference with several exact snippets replaced, each occurring once."""
    source = reference_source(part)
    for old, new in changes:
        assert source.count(old) == 1, f"{old!r} must occur exactly once in reference/{part}.py"
        source = source.replace(old, new)
    return source + extra


def full_marks(report, part: str):
    tests = [t for t in report.tests if t.part == part]
    assert tests, f"no {part} test ran"
    bad = [f"{t.id}: {t.status} {t.message} ({t.diagnosis})" for t in tests if t.status != "passed"]
    assert not bad, "\n".join(bad)


def expect(report, check_id: str, *words: str):
    """`check_id` failed, and its diagnosis names the mistake with all of `words`."""
    test = by_id(report)[check_id]
    assert test.status == "failed", f"{check_id} should fail: {test.status} {test.message}"
    assert test.score == 0
    text = (test.diagnosis or "").lower()
    assert all(w.lower() in text for w in words), (
        f"{check_id}: diagnosis {test.diagnosis!r} ({test.message})"
    )


def noted(report) -> dict:
    """{check: the earlier check whose mistake it counts again}."""
    return {t.id: t.same_mistake_as for t in report.tests if t.same_mistake_as}


def passed(report, *check_ids: str):
    tests = by_id(report)
    for check_id in check_ids:
        assert tests[check_id].status == "passed", f"{check_id}: {tests[check_id].message}"


# -- full marks ----------------------------------------------------------------------------


def test_reference_scores_full_marks(make_submission, grade_path):
    path = make_submission(
        {"tp2_cnn.py": reference_source("tp2_cnn"), "answers.py": reference_source("answers")}
    )
    report = grade_path(path, parts=("tp2_cnn", "answers"))
    full_marks(report, "tp2_cnn")
    full_marks(report, "answers")
    run = by_id(report)["tp2_cnn::training::short_run"]
    [artifact] = run.artifacts
    assert (
        isinstance(artifact, Curves)
        and artifact.reference is None
        and set(artifact.before) == {"test_loss", "test_acc"}
    )
    curves = artifact.student
    assert set(curves) == {"train_loss", "train_acc", "test_loss", "test_acc"}
    assert (
        len({len(v) for v in curves.values()}) == 1
        and curves["train_loss"][-1] < curves["train_loss"][0]
    )
    assert report.max_score == sum(t.max_score for t in report.tests) > 0


def course_notebook(source: str) -> str:
    """`source` as the course's `1_cd_CNNs.ipynb` would hold it: one cell per definition,
    a torchvision import (absent here), and top-level work that must not run."""
    cells = ["import torchvision\nfrom torchvision import datasets, transforms"]
    cells += [chunk for chunk in source.split("\n\n\n") if chunk.strip()]
    cells += [
        "train_loader, test_loader = get_dataset(128, False)\n"
        "main(batch_size=128, lr=0.1, epochs=5, cuda=False)"
    ]
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {
                    "cell_type": "code",
                    "id": f"c{k}",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": text,
                }
                for k, text in enumerate(cells)
            ],
        }
    )


def test_course_style_variants_score_full_marks(make_submission, grade_path):
    """The course's own `epoch` (utils, global loss_plot, PRINT_INTERVAL, cuda=False, no
    no_grad, AverageMeter results in percent) and other accepted variations, in a notebook
    named as the course names it."""
    path = make_submission(
        {
            "1_cd_CNNs.ipynb": course_notebook((HERE / "tp2_course_variant.py").read_text()),
            "answers.py": (HERE / "tp2_answers_variant.py").read_text(),
        }
    )
    report = grade_path(path, parts=("tp2_cnn", "answers"))
    full_marks(report, "tp2_cnn")
    full_marks(report, "answers")


# The Q10 table written with the module's own functions (deferred at load, run when asked for),
# and a module that finds its folder with __file__.
ANSWERS_WITH_OWN_FUNCTIONS = [
    (
        "# (An assignment that calls the submission's own functions is top-level work, not run:\n"
        '# the table is written out.)\nLAYER_TABLE = [\n    ["Conv1", [32, 32, 32], 2432],',
        'HERE = os.path.dirname(os.path.abspath(__file__))\nLAYER_TABLE = [\n    ["Conv1", [32, 32, 32], conv_params(3, 32, 5)],',
    ),
    ('["conv2", [64, 16, 16], 51264]', '["conv2", [64, 16, 16], conv_params(32, 64, 5)]'),
    ('["fc4", [1000], 1025000]', '["fc4", [1000], fc_params(64 * 4 * 4, 1000)]'),
    ("import math\n", "import math\nimport os\n"),
]


def answers_with_own_functions() -> str:
    source = (HERE / "tp2_answers_variant.py").read_text()
    for old, new in ANSWERS_WITH_OWN_FUNCTIONS:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


@pytest.fixture(scope="module")
def course_cnn(tmp_path_factory):
    """The course's 1_cd_CNNs.ipynb as students fill it in (tests/course_notebooks.py), right and with
    each list of single mistakes, graded through get_dataset's loaders and main's scheduler."""
    grades = {}
    for name, changes in {
        "right": (),
        **corpus.CNN_RIGHT,
        **corpus.CNN_MISTAKES,
        **corpus.CNN_IN_PLACE,
    }.items():
        folder = tmp_path_factory.mktemp("cnn")
        (folder / "1_cd_CNNs.ipynb").write_text(corpus.cnn_notebook(changes))
        parts = ("tp2_cnn",)
        if name == "right":
            (folder / "answers.py").write_text(answers_with_own_functions())
            parts = ("tp2_cnn", "answers")
        grades[name] = grade(open_submission(folder), limits=Limits(call_seconds=60.0), parts=parts)
    return grades


def test_course_cnn_notebook_scores_full_marks(course_cnn):
    """tme6 and the course's verbatim epoch, ConvNet defined again with batch norm and dropout,
    transforms inside get_dataset, the scheduler inside main, `.cuda()` calls; answers deferred."""
    report = course_cnn["right"]
    full_marks(report, "tp2_cnn")
    full_marks(report, "answers")
    assert report.parts[0].source == "1_cd_CNNs.ipynb" and report.parts[0].skipped == []


@pytest.mark.parametrize("variant", list(corpus.CNN_RIGHT))
def test_course_cnn_right_variants_score_full_marks(course_cnn, variant):
    full_marks(course_cnn[variant], "tp2_cnn")


def test_course_cnn_mistakes_in_loaders_scheduler_and_network(course_cnn):
    report = course_cnn["no normalisation, gamma 0.9, dropout missing"]
    expect(report, "tp2_cnn::transforms::normalise", "not normalised")
    expect(report, "tp2_cnn::normalise::mean_std", "not normalised")
    expect(report, "tp2_cnn::scheduler::exponential", "wrong gamma", "0.9")
    expect(report, "tp2_cnn::improved::dropout", "dropout missing")
    assert (
        "ConvNet (the version of 1_cd_CNNs.ipynb, cell 14"
        in by_id(report)["tp2_cnn::improved::dropout"].message
    )
    passed(
        report,
        "tp2_cnn::transforms::flip",
        "tp2_cnn::transforms::random_crop",
        "tp2_cnn::improved::batchnorm",
        "tp2_cnn::transforms::test_centre",
        "tp2_cnn::convnet::param_count",
        "tp2_cnn::epoch::train_results",
        "tp2_cnn::training::short_run",
    )
    report = course_cnn["random test transform, no flip, batch norm missing"]
    expect(report, "tp2_cnn::transforms::test_centre", "random test transform")
    expect(report, "tp2_cnn::transforms::flip", "no flip")
    expect(report, "tp2_cnn::improved::batchnorm", "batchnorm2d missing")
    passed(
        report,
        "tp2_cnn::normalise::mean_std",
        "tp2_cnn::transforms::normalise",  # computed on the training images
        "tp2_cnn::transforms::random_crop",
        "tp2_cnn::improved::dropout",
        "tp2_cnn::scheduler::exponential",
    )


def test_improved_network_written_over_convnet_is_judged_as_the_improved_one(course_cnn):
    """The only ConvNet holds batch norm and dropout: the improved checks judge it (and say so),
    the baseline checks judge it too, as the baseline it no longer is; nothing is "not found"."""
    report = course_cnn["improved over ConvNet"]
    improved = [t.id for t in report.tests if t.id.startswith("tp2_cnn::improved::")]
    passed(report, *improved, "tp2_cnn::epoch::train_results", "tp2_cnn::scheduler::exponential")
    assert len(improved) == 4 and by_id(report)["tp2_cnn::convnet::param_count"].status == "failed"
    assert report.parts[0].notes == [
        "ConvNet is judged as the improved network (ConvNetImproved): it holds BatchNorm2d and Dropout"
    ]
    assert not any("not found" in t.message for t in report.tests)
    report = course_cnn["improved over ConvNet, no dropout"]
    expect(report, "tp2_cnn::improved::dropout", "dropout missing")
    passed(report, "tp2_cnn::improved::batchnorm", "tp2_cnn::improved::output_shape")
    assert report.parts[0].notes == [
        "ConvNet is judged as the improved network (ConvNetImproved): it holds BatchNorm2d"
    ]


def test_course_helper_under_another_name_is_recognised_by_what_it_holds(
    make_submission, grade_path
):
    """The course's `tme6.py` shipped as `tme6_utils.py`: its `accuracy` (which fails on PyTorch 2)
    and `AverageMeter` are replaced by the grader's, with a note; in a helper of the student's own,
    `utils2.py`, their own `accuracy` is graded as written, and its mistake costs the epoch's results
    (its `AverageMeter`, the course's, is still replaced)."""
    course_style = (HERE / "tp2_course_variant.py").read_text()
    assert course_style.count("from utils import *") == 1
    for helper, text in (("tme6_utils", corpus.COURSE_TME6), ("utils2", corpus.OWN_HELPER)):
        folder = make_submission(
            {
                "tp2_cnn.py": course_style.replace(
                    "from utils import *", f"from {helper} import *"
                ),
                f"{helper}.py": text,
            },
            name=helper,
        )
        report = grade_path(folder, ("tp2_cnn",))
        if helper == "tme6_utils":
            full_marks(report, "tp2_cnn")
            assert report.parts[0].notes == [
                f"`{name}` (tme6_utils.py, line {line}) is the course's own; the grader's version of it "
                "(course helper `utils`) runs in its place"
                for name, line in (("accuracy", 8), ("AverageMeter", 24))
            ]
        else:
            assert by_id(report)["tp2_cnn::epoch::train_results"].status == "failed"
            passed(report, "tp2_cnn::epoch::train_steps", "tp2_cnn::convnet::param_count")
            assert [n.split(" (")[0] for n in report.parts[0].notes] == ["`AverageMeter`"]


# -- named mistakes ----------------------------------------------------------------------------

CONVNET_CONV1 = (
    "            nn.Conv2d(3, 32, kernel_size=5, stride=1, padding=2),\n            nn.ReLU(),\n"
)
CONVNET_CONV2 = (
    "            nn.Conv2d(32, 64, kernel_size=5, stride=1, padding=2),\n            nn.ReLU(),\n"
)
CONVNET_POOL1 = CONVNET_CONV1 + "            nn.MaxPool2d(kernel_size=2, stride=2, padding=0),\n"
TRAIN_STEP = (
    "        if optimizer is not None:\n"
    "            optimizer.zero_grad()\n"
    "            loss.backward()\n"
    "            optimizer.step()\n"
)
MODE = "    model.eval() if optimizer is None else model.train()\n"


def test_mistakes_padding_dropout_at_test_zero_grad_global_mean_gamma(make_submission, grade_path):
    source = mutate_all(
        "tp2_cnn",
        (CONVNET_CONV1, CONVNET_CONV1.replace("padding=2", "padding=0")),  # no padding
        (
            "            nn.Dropout(0.5),\n",
            "            TrainDropout(0.5),\n",
        ),  # dropout on at test
        ("            optimizer.zero_grad()\n", ""),  # zero_grad missing
        (
            "    mean = images.mean(dim=(0, 2, 3))\n    std = images.std(dim=(0, 2, 3))\n",
            "    mean = images.mean().expand(3)\n    std = images.std().expand(3)\n",
        ),  # global mean/std
        ("LR_GAMMA = 0.95", "LR_GAMMA = 0.9"),  # wrong gamma
        extra="\n\nimport torch.nn.functional as F\n\n\nclass TrainDropout(nn.Dropout):\n    def forward(self, x):\n"
        "        return F.dropout(x, self.p, training=True)\n",
    )
    report = grade_path(make_submission({"tp2_cnn.py": source}), parts=("tp2_cnn",))
    expect(report, "tp2_cnn::convnet::layers", "without padding", "Q8")
    expect(report, "tp2_cnn::improved::eval_mode", "dropout left in train mode")
    expect(report, "tp2_cnn::epoch::train_steps", "zero_grad missing")
    expect(report, "tp2_cnn::normalise::mean_std", "global instead of per-channel")
    expect(report, "tp2_cnn::scheduler::exponential", "wrong gamma", "0.9")
    assert by_id(report)["tp2_cnn::convnet::layers"].question == "1-cd Q8-10"
    assert noted(report) == {"tp2_cnn::epoch::train_results": "tp2_cnn::epoch::train_steps"}
    passed(
        report,
        "tp2_cnn::convnet::param_count",
        "tp2_cnn::improved::dropout",
        "tp2_cnn::epoch::eval_mode",
        "tp2_cnn::epoch::eval_no_update",
        "tp2_cnn::epoch::eval_results",
        "tp2_cnn::transforms::flip",
        "tp2_cnn::transforms::test_centre",
    )


def test_mistakes_relu_dropout_eval_mode_flip(make_submission, grade_path):
    source = mutate_all(
        "tp2_cnn",
        (CONVNET_CONV2, CONVNET_CONV2.replace("            nn.ReLU(),\n", "")),  # ReLU missing
        ("            nn.Dropout(0.5),\n", ""),  # Dropout missing
        (MODE, "    model.train()\n"),  # eval mode not set
        ("if self.train and torch.rand(1).item() < 0.5:", "if False:"),  # no flip
    )
    report = grade_path(make_submission({"tp2_cnn.py": source}), parts=("tp2_cnn",))
    expect(report, "tp2_cnn::convnet::relu", "missing relu after conv2")
    expect(report, "tp2_cnn::improved::dropout", "dropout missing")
    expect(report, "tp2_cnn::epoch::eval_mode", "eval mode not set")
    expect(report, "tp2_cnn::epoch::eval_no_update", "eval mode not set")
    expect(report, "tp2_cnn::transforms::flip", "no flip")
    assert noted(report) == {
        "tp2_cnn::epoch::eval_no_update": "tp2_cnn::epoch::eval_mode",
        "tp2_cnn::epoch::eval_results": "tp2_cnn::epoch::eval_mode",
    }
    passed(
        report,
        "tp2_cnn::convnet::layers",
        "tp2_cnn::convnet::param_count",
        "tp2_cnn::improved::eval_mode",
        "tp2_cnn::epoch::train_mode",
        "tp2_cnn::epoch::train_steps",
        "tp2_cnn::epoch::train_results",
        "tp2_cnn::transforms::random_crop",
        "tp2_cnn::transforms::normalise",
    )


def test_mistakes_batchnorm_at_test_backward_in_eval_train_mode_random_test_crop(
    make_submission, grade_path
):
    source = mutate_all(
        "tp2_cnn",
        (CONVNET_POOL1, CONVNET_CONV1),  # pool1 missing
        (
            "            nn.BatchNorm2d(32),\n",
            "            nn.BatchNorm2d(32, track_running_stats=False),\n",
        ),
        (MODE, "    model.eval() if optimizer is None else None\n"),  # train mode not set
        ("with torch.set_grad_enabled(optimizer is not None):", "with torch.enable_grad():"),
        (
            TRAIN_STEP,
            "        if optimizer is not None:\n            optimizer.zero_grad()\n"
            "        loss.backward()\n        if optimizer is not None:\n"
            "            optimizer.step()\n",
        ),  # backward in eval
        (
            "        if self.train:\n            top =",
            "        if True:\n            top =",
        ),  # random test crop
    )
    report = grade_path(make_submission({"tp2_cnn.py": source}), parts=("tp2_cnn",))
    expect(report, "tp2_cnn::convnet::layers", "no pooling before conv2")
    expect(report, "tp2_cnn::improved::eval_mode", "batch norm left in train mode")
    expect(report, "tp2_cnn::epoch::train_mode", "model.train()")
    expect(report, "tp2_cnn::epoch::eval_no_update", "backward in the evaluation")
    expect(report, "tp2_cnn::transforms::test_centre", "random test transform")
    assert noted(report) == {"tp2_cnn::epoch::train_results": "tp2_cnn::epoch::train_mode"}
    passed(
        report,
        "tp2_cnn::convnet::param_count",
        "tp2_cnn::improved::batchnorm",
        "tp2_cnn::epoch::eval_mode",
        "tp2_cnn::transforms::flip",
    )
    assert by_id(report)["tp2_cnn::training::short_run"].status != "passed"


def test_mistakes_fc4_inputs_ceil_mode_not_normalised_and_answers(make_submission, grade_path):
    cnn = mutate_all(
        "tp2_cnn",
        (
            "            nn.Linear(64 * 4 * 4, 1000),\n            nn.ReLU(),\n            nn.Linear(1000, 10),",
            "            nn.Linear(64 * 8 * 8, 1000),\n            nn.ReLU(),\n            nn.Linear(1000, 10),",
        ),
        ("padding=0, ceil_mode=True)", "padding=0)"),  # no ceil_mode
        (
            "        return (image - self.mean) / self.std\n",
            "        return image\n",
        ),  # not normalised
    )
    source = mutate_all(
        "answers",
        ("(size + 2 * padding - kernel)", "(size + padding - kernel)"),  # padding one side
        (
            "out_channels * (in_channels * kernel * kernel + 1)",
            "out_channels * in_channels * kernel * kernel",
        ),  # conv without bias
        ("n_out * (n_in + 1)", "n_in * n_out + n_in"),  # fc bias per input
        ("field += (kernel - 1) * jump", "field += kernel - 1"),  # strides ignored
        ("64 * 4 * 4 * 1000 + 1000", "64 * 4 * 4 * 1000 + 1024"),  # table: fc bias per input
        ("TOTAL_PARAMS = 1191170", "TOTAL_PARAMS = 1190000"),  # no biases
        ('SAME_CONV_5x5 = {"padding": 2', 'SAME_CONV_5x5 = {"padding": 4'),  # one side
    )
    report = grade_path(
        make_submission({"answers.py": source, "tp2_cnn.py": cnn}), parts=("tp2_cnn", "answers")
    )
    expect(report, "tp2_cnn::convnet::param_count", "fc4 takes 4096 inputs")
    expect(report, "tp2_cnn::improved::output_shape", "ceil_mode")
    expect(report, "tp2_cnn::transforms::normalise", "not normalised")
    passed(
        report,
        "tp2_cnn::transforms::flip",
        "tp2_cnn::transforms::random_crop",
        "tp2_cnn::epoch::train_results",
    )
    expect(report, "answers::conv_output_size", "padding counted on one side only", "Q1")
    expect(report, "answers::conv_params", "biases are missing")
    expect(report, "answers::fc_params", "fc bias counted per input")
    expect(report, "answers::receptive_field", "ignores strides", "Q7")
    expect(report, "answers::layer_table", "fc bias counted per input")
    expect(report, "answers::total_params", "biases are missing")
    expect(report, "answers::same_conv_5x5", "padding counted on one side only")
    message = by_id(report)["answers::conv_output_size"].message
    assert "conv_output_size(32, 5, 2, 1) returned 30" in message
    # Feedback on an answer says where it is wrong, never what the answer is.
    for test in report.part_tests("answers"):
        text = f"{test.message} {test.diagnosis or ''}"
        assert "expected" not in text and "1,191,170" not in text and "1191170" not in text, test.id
    assert (
        "not right: with them a 5×5 window turns a 32×32 input into 36×36"
        in by_id(report)["answers::same_conv_5x5"].message
    )
    passed(report, "answers::figure1_sizes", "answers::halving_pool_2x2")


@pytest.mark.parametrize("seed", [1])
def test_reference_full_marks_under_another_seed(make_submission, grade_path, seed):
    path = make_submission(
        {"tp2_cnn.py": reference_source("tp2_cnn"), "answers.py": reference_source("answers")}
    )
    report = grade_path(path, parts=("tp2_cnn", "answers"), seed=seed)
    full_marks(report, "tp2_cnn")
    full_marks(report, "answers")


class InProcessPart:
    """A part loaded here, its probes run here: enough for the rubric's choice of classes."""

    def __init__(self, cells: list[str]):
        from grader.labs.rdfia.worker.probes import tp2_cnn
        from grader.worker.loader import Chunk, load

        self.namespace = load(
            [Chunk(f"nb.ipynb, cell {k + 1}", c) for k, c in enumerate(cells)], "tp2_cnn"
        ).namespace
        self.names, self.probes, self.notes = set(self.namespace.names()), tp2_cnn, []

    def require(self, *names):
        assert set(names) <= self.names, names

    def probe(self, name, *args):
        return getattr(self.probes, name.removeprefix("tp2_cnn."))(self.namespace, *args)


@pytest.mark.parametrize(
    "later, judged",
    [
        ("class ConvNetImproved(nn.Module):\n    pass\n", ("ConvNetImproved", "ConvNetImproved")),
        (
            corpus.CONVNET_IMPROVED,
            (["ConvNet", 1], "ConvNet (the version of nb.ipynb, cell 3, line 6)"),
        ),
        (
            corpus.CONVNET_IMPROVED.replace("ConvNet", "BetterNet")
            + "\n\n\nclass Plain(nn.Module):\n    pass\n",
            (["BetterNet", 0], "BetterNet"),
        ),
    ],
)
def test_the_improved_checks_judge_the_network_the_contract_names(later, judged, monkeypatch):
    from grader.labs.rdfia.rubric.cnn_common import baseline, improved

    monkeypatch.syspath_prepend(
        str(HERE.parent / "grader" / "labs" / "rdfia" / "worker" / "course")
    )
    student = InProcessPart(["import torch\nimport torch.nn as nn", corpus.CONVNET, later])
    assert baseline(student, 0) == (["ConvNet", 0] if judged[0] == ["ConvNet", 1] else "ConvNet")
    assert improved(student, 0) == judged


def test_roles_are_judged_by_what_the_classes_are(monkeypatch):
    """No ConvNet: the handout's network under another name is the baseline; of two candidates,
    the one with batch norm and dropout is the improved network, not a later dropout-only one."""
    from grader.labs.rdfia.rubric.cnn_common import baseline, improved

    monkeypatch.syspath_prepend(
        str(HERE.parent / "grader" / "labs" / "rdfia" / "worker" / "course")
    )
    dropout_only = corpus.CONVNET.replace("ConvNet", "DropNet").replace(
        "nn.Linear(1024, 1000),\n            nn.ReLU(),\n",
        "nn.Linear(1024, 1000),\n            nn.ReLU(),\n            nn.Dropout(0.5),\n",
    )
    assert "Dropout" in dropout_only and "BatchNorm" not in dropout_only
    student = InProcessPart(
        [
            "import torch\nimport torch.nn as nn",
            corpus.CONVNET.replace("ConvNet", "Net"),
            corpus.CONVNET_IMPROVED.replace("ConvNet", "BetterNet"),
            dropout_only,
        ]
    )
    assert baseline(student, 0) == ["Net", 0]
    assert improved(student, 0) == (["BetterNet", 0], "BetterNet")
    assert student.notes == [
        "Net is judged as the baseline network (ConvNet): it is the handout's network",
        "BetterNet is judged as the improved network (ConvNetImproved): it holds BatchNorm2d and Dropout",
    ]
