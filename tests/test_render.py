"""Every renderer reads the same results model; checked on a hand-made report."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import TEST_KEYS, mutate

from grader.artifacts import Artifact, Boundary, Curves, Gradient
from grader.labs.rdfia import LAB
from grader.render import REPORT, Ahead, gradescope, html, junit, plots, terminal
from grader.render import json as json_render
from grader.results import PartResult, Report, TestResult
from grader.runner import grade
from grader.sandbox import Limits
from grader.submission import open_submission


@pytest.fixture
def report() -> Report:
    tests = [
        TestResult(
            "tp1_manual::backward::grad_Wy",
            "tp1_manual",
            "∇Wy matches the handout's formula",
            "failed",
            0.0,
            2.0,
            message="∇Wy should have shape (2, 10); got shape (10, 2).",
            diagnosis="∇Wy is transposed: <use ∇Ỹᵀ H>",
            question="1-ab Q16",
        ),
        TestResult(
            "tp1_manual::forward::yhat",
            "tp1_manual",
            "forward gives softmax rows",
            "passed",
            1.0,
            1.0,
        ),
        TestResult(
            "answers::total_params",
            "answers",
            "TOTAL_PARAMS",
            "error",
            0.0,
            1.0,
            message="boom",
            output="printed\n",
        ),
    ]
    parts = [
        PartResult(p, found=p in ("tp1_manual", "answers"), source=f"{p}.py")
        for p in LAB.part_names
    ]
    return Report(
        "alice",
        0,
        parts,
        tests,
        grader_version="0.1.0",
        created="2026-11-23T00:00:00+00:00",
        digest="abc",
        seconds=1.5,
    )


def test_json_follows_the_contract(report, tmp_path):
    data = json.loads(json_render.render(report))
    assert data["score"] == 1.0 and data["max_score"] == 4.0
    assert [p["part"] for p in data["parts"]] == list(LAB.part_names)
    assert data["parts"][0] == {
        "part": "tp1_manual",
        "found": True,
        "score": 1.0,
        "max_score": 3.0,
        "status": "graded",
        "source": "tp1_manual.py",
        "ignored": [],
    }
    assert data["parts"][1]["status"] == "not found"
    assert data["tests"][0]["diagnosis"].startswith("∇Wy is transposed")


def test_terminal_plain_lists_each_part_and_failure(report):
    out = io.StringIO()
    terminal.render(report, out, color=False)
    text = out.getvalue()
    assert "alice: 1 / 4 points" in text
    assert "tp1_autograd" in text and "(not found)" in text
    assert "FAIL tp1_manual::backward::grad_Wy (0/2) [1-ab Q16]" in text
    assert "likely mistake: ∇Wy is transposed" in text
    assert "\x1b[" not in text


def test_terminal_colour_keeps_the_words(report):
    out = io.StringIO()
    terminal.render(report, out, color=True)
    assert "FAIL" in out.getvalue() and "likely mistake" in out.getvalue()


def test_html_escapes_and_shows_status_as_text(report):
    page = html.render(report)
    assert "&lt;use ∇Ỹᵀ H&gt;" in page and "<use" not in page
    assert "✘ FAILED" in page and "✔ PASSED" in page and "⚠ ERROR" in page
    assert "handout 1-ab Q16" in page and "<link" not in page and "<script" not in page


def test_every_report_says_how_a_part_was_read(report):
    note = "ConvNet is judged as the improved network: <BatchNorm2d>"
    report.parts[0].notes.append(note)
    out = io.StringIO()
    terminal.render(report, out, color=True)
    assert f"      note: {note}" in terminal.lines(report) and note in out.getvalue()
    assert note.replace("<", "&lt;").replace(">", "&gt;") in html.render(report)
    assert json.loads(json_render.render(report))["parts"][0]["notes"] == [note]
    assert gradescope.as_dict(report)["output"].endswith(f"\nnote on tp1_manual: {note}")


def test_junit_has_one_testcase_per_check(report, tmp_path):
    root = ET.fromstring(junit.render(report).encode())
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [t.id for t in report.tests]
    assert root.get("failures") == "1" and root.get("errors") == "1"
    assert cases[0].find("failure") is not None and cases[1].find("failure") is None


def test_gradescope_schema(report):
    data = gradescope.as_dict(report)
    assert data["score"] == 1.0
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(data["tests"][0])
    assert data["tests"][0]["status"] == "failed" and "Likely mistake" in data["tests"][0]["output"]


def test_junit_times_and_gradescope_fields(report, tmp_path):
    root = junit.as_xml(report)
    assert all(s.get("skipped") for s in root.iter("testsuite")) and all(
        c.get("time") for c in root.iter("testcase")
    )
    assert root.find(".//testcase[@name='answers::total_params']/system-out").text == "printed\n"
    data = gradescope.as_dict(report)
    assert data["execution_time"] == 1.5 and data["output_format"] == "text"
    assert "What your code printed" in data["tests"][2]["output"]


def test_junit_is_valid_against_the_jenkins_and_gitlab_schema(report):
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(Path(__file__).with_name("junit-10.xsd")))
    not_graded = Report("bob", 0, [], [], error="bob.ipynb is not a readable notebook")
    for r in (report, report_with_plots(), not_graded):
        text = junit.render(r)
        errors = list(schema.iter_errors(text))
        assert not errors, errors[:3]
    root = ET.fromstring(junit.render(report).encode())
    scores = {
        s.get("name"): {p.get("name"): p.get("value") for p in s.iter("property")} for s in root
    }
    assert scores["tp1_manual"] == {"score": "1", "max_score": "3", "seed": str(report.seed)}
    assert (
        ET.fromstring(junit.render(not_graded).encode()).find(".//error").text == not_graded.error
    )


# -- plots ----------------------------------------------------------------------------------


def _curves(n=30, start=0.69, rate=0.02, acc0=0.5):
    return {
        "train_loss": [start * math.exp(-rate * e) for e in range(n)],
        "test_loss": [start * math.exp(-rate * e) + 0.01 for e in range(n)],
        "train_acc": [min(1.0, acc0 + 0.012 * e) for e in range(n)],
        "test_acc": [min(1.0, acc0 - 0.02 + 0.012 * e) for e in range(n)],
    }


def _boundary():
    axis = [-2 + 0.1 * i for i in range(40)]
    prob = [[1 / (1 + math.exp(6 * (math.hypot(x, y) - 0.65))) for x in axis] for y in axis]
    points = [[math.cos(a / 10), math.sin(a / 10)] for a in range(63)] + [
        [0.3 * math.cos(a / 10), 0.3 * math.sin(a / 10)] for a in range(63)
    ]
    return Boundary(axis=axis, prob=prob, points=points, labels=[0] * 63 + [1] * 63)


def report_with_plots() -> Report:
    """A hand-made report whose tests hold each kind of artifact the rubric records."""
    wy = [[0.1 * (i - j) / (1 + j) for j in range(10)] for i in range(2)]
    bh = [[0.05 * j - 0.2 for j in range(10)]]
    tests = [
        TestResult(
            "tp1_manual::backward::grad_Wy",
            "tp1_manual",
            "backward returns ∇Wy",
            "failed",
            0.0,
            2.0,
            message="∇Wy should have shape (2, 10); got shape (10, 2).",
            diagnosis="∇Wy came back transposed",
            question="1-ab Q16",
            artifacts=[
                Gradient("∇Wy", expected=wy, received=[list(r) for r in zip(*wy, strict=True)])
            ],
        ),
        TestResult(
            "tp1_manual::backward::grad_bh",
            "tp1_manual",
            "backward returns ∇bh",
            "failed",
            0.0,
            2.0,
            message="∇bh differs at entry 3.",
            question="1-ab Q17",
            artifacts=[
                Gradient(
                    "∇bh",
                    expected=bh,
                    received=[[v * (2 if j == 3 else 1) for j, v in enumerate(bh[0])]],
                )
            ],
        ),
        TestResult(
            "tp1_manual::training::curves",
            "tp1_manual",
            "the training loop follows the reference run",
            "passed",
            3.0,
            3.0,
            artifacts=[Curves(_curves(), reference=_curves()), _boundary()],
        ),
        TestResult(
            "tp1_nn::training::curves",
            "tp1_nn",
            "the training loop follows the reference run",
            "passed",
            3.0,
            3.0,
            artifacts=[Curves(_curves(), reference=_curves()), _boundary()],
        ),
        TestResult(
            "tp1_optim::training::curves",
            "tp1_optim",
            "the training loop follows the reference run",
            "failed",
            0.0,
            3.0,
            message="at epoch 1 the train acc is 0.5, the reference's 0.54.",
            artifacts=[Curves(_curves(rate=0.08, acc0=0.6), reference=_curves()), _boundary()],
        ),
        TestResult(
            "tp2_cnn::training::short_run",
            "tp2_cnn",
            "the short run learns",
            "passed",
            4.0,
            4.0,
            artifacts=[
                Curves(
                    {
                        "train_loss": [2.2, 1.6, 1.2],
                        "train_acc": [0.2, 0.5, 0.6],
                        "test_loss": [1.7, 1.2, 1.1],
                        "test_acc": [0.3, 0.7, 0.6],
                    },
                    before={"test_loss": 2.3, "test_acc": 0.1},
                )
            ],
        ),
        TestResult("answers::total_params", "answers", "TOTAL_PARAMS", "passed", 1.0, 1.0),
    ]
    parts = [PartResult(p, found=True, source=f"{p}.py") for p in LAB.part_names]
    return Report(
        "plots",
        0,
        parts,
        tests,
        grader_version="0.1.0",
        created="2026-11-23T00:00:00+00:00",
        digest="abc",
        seconds=12.5,
    )


def test_html_plots_are_inline_svg_with_text_alternatives():
    page = html.render(report_with_plots())
    svgs = re.findall(r"<svg\b[^>]*>.*?</svg>", page, flags=re.S)
    # 2 heatmaps; curves for 3 TP 1-ab runs and the CNN; the boundary of the first passing run and of the failing one
    assert len(svgs) == 2 + 4 + 2
    for svg in svgs:
        head = svg[: svg.index(">")]
        assert 'role="img"' in head and 'aria-label="' in head
        title = re.search(r'aria-labelledby="([^" ]+)', head).group(1)
        assert f'<title id="{title}">' in svg
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # several SVGs in one page
    assert set(re.findall(r'href="#([^"]+)"', page)) <= set(ids)
    assert set(re.findall(r"url\(#([^)]+)\)", page)) <= set(ids)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert page.count("<figcaption") == len(svgs)
    assert "only the shape is wrong" in page  # the transposed ∇Wy, compared transposed back
    assert "the largest error, -0.05, is at row 0, column 3" in page
    assert html.render(report_with_plots()) == page  # deterministic


def test_no_artifacts_no_plots_and_no_matplotlib_cost(report):
    assert "<svg" not in html.render(report)


@pytest.mark.parametrize(
    "artifact",
    [
        Curves(None),
        Curves("nope"),
        Curves({"train_loss": [float("nan")] * 3}),
        Curves({"train_loss": ["a", None]}),
        Boundary([1, 2], [[0.5]], [], []),
        Boundary(list(range(40)), [[float("inf")] * 40] * 40, [], []),
        Boundary(None, None, None, None),
        Gradient("∇Wy", expected=[[1.0, 2.0]], received=[[1.0], [2.0], [3.0]]),
        Gradient(None, expected=[[1.0, 2.0], [3.0]], received=[[1.0, 2.0], [3.0]]),
        Gradient("∇Wy", expected="x", received=3),
        Gradient("∇Wy", expected=[[float("nan")]], received=[[1.0]]),
    ],
)
def test_odd_artifacts_give_no_plot_not_a_broken_report(artifact):
    test = TestResult(
        "tp1_manual::training::curves", "tp1_manual", "x", "failed", 0.0, 1.0, artifacts=[artifact]
    )
    assert plots.for_test(test) == []
    report = Report("odd", 0, [PartResult("tp1_manual", True)], [test])
    assert "tp1_manual::training::curves" in html.render(report)


def test_extreme_but_valid_values_still_plot():
    diverged = {
        "train_loss": [0.7, 5.0, 1e6, float("inf")],
        "test_loss": [0.7, 4.0, 1e5, float("nan")],
        "train_acc": [50.0, 40.0, 30.0, 20.0],
        "test_acc": [0.5, 0.4, 0.3, 0.2],
    }
    assert plots.training_curves(Curves(diverged)) is not None
    flat = dataclasses.replace(_boundary(), prob=[[0.0] * 40 for _ in range(40)])
    plot = plots.decision_boundary(flat)
    assert plot is not None and "predicts class 0 everywhere" in plot.caption
    big = [[float(i * j) for j in range(50)] for i in range(50)]
    assert plots.gradient_heatmap(Gradient("∇W", expected=big, received=big)) is not None


def test_every_kind_of_artifact_has_its_plot_and_an_unknown_one_is_an_error():
    tests = report_with_plots().tests
    samples = {type(a): a for t in tests for a in t.artifacts}
    assert set(samples) == set(Artifact.__subclasses__())
    for kind, artifact in samples.items():
        assert plots.plot.dispatch(kind) is not plots.plot.dispatch(object)
        assert plots.plot(artifact).kind == kind.kind
    with pytest.raises(TypeError, match="no plot draws a dict"):
        plots.for_test(TestResult("x::y", "x", "x", "failed", 0.0, 1.0, artifacts=[{"curves": {}}]))


def test_the_json_keeps_no_artifact():
    """The plots' values (an expected gradient, the reference's curves) stay out of the
    contract's JSON: a picture in the HTML report, never numbers in clear."""
    data = json.loads(json_render.render(report_with_plots()))
    assert all(set(t) == TEST_KEYS for t in data["tests"])


@pytest.fixture(scope="module")
def no_tanh_derivative(tmp_path_factory) -> Report:
    """tp1_manual graded with a backward that forgets the tanh derivative."""
    folder = tmp_path_factory.mktemp("no_tanh_derivative")
    (folder / "tp1_manual.py").write_text(
        mutate(
            "tp1_manual",
            'grad_htilde = torch.mm(grad_ytilde, params["Wy"]) * (1 - outputs["h"] ** 2)',
            'grad_htilde = torch.mm(grad_ytilde, params["Wy"])',
        )
    )
    return grade(open_submission(folder), limits=Limits(call_seconds=60.0), parts=("tp1_manual",))


def test_grading_records_the_artifacts_the_plots_need(no_tanh_derivative):
    """A backward without the tanh derivative: the two hidden-layer gradients fail with
    both values kept, and the training run fails with its curves and its boundary."""
    tests = {t.id: t for t in no_tanh_derivative.tests}
    wh = tests["tp1_manual::backward::grad_Wh"]
    [gradient] = wh.artifacts
    assert wh.status == "failed" and gradient.name == "∇Wh"
    assert len(gradient.expected) == 10 and len(gradient.expected[0]) == 2
    assert [type(a) for a in tests["tp1_manual::backward::grad_bh"].artifacts] == [Gradient]
    assert tests["tp1_manual::backward::grad_Wy"].artifacts == []  # right: nothing kept
    run = tests["tp1_manual::training::curves"]
    curves, b = run.artifacts
    assert (
        set(curves.student)
        == set(curves.reference)
        == {"train_loss", "train_acc", "test_loss", "test_acc"}
    )
    assert len(b.axis) == 40 and len(b.prob) == 40 and len(b.points) == len(b.labels) == 200
    assert [p.kind for p in plots.for_test(run)] == ["curves", "boundary"]
    assert [p.kind for p in plots.for_test(wh)] == ["gradient"]


def test_one_mistake_failing_two_checks_is_said_in_each_report(no_tanh_derivative):
    """∇Wh and ∇bh both miss the tanh derivative: one mistake, charged in both checks and in
    the training run; the later ones say so, in the JSON, the HTML, the terminal, Gradescope's and JUnit's files."""
    wh, bh = "tp1_manual::backward::grad_Wh", "tp1_manual::backward::grad_bh"
    tests = {t["id"]: t for t in json.loads(json_render.render(no_tanh_derivative))["tests"]}
    assert tests[bh]["same_mistake_as"] == wh and tests[bh]["score"] == 0
    assert tests[wh]["same_mistake_as"] is None and tests[wh]["status"] == "failed"
    assert (
        tests["tp1_manual::training::curves"]["same_mistake_as"] == wh
    )  # the run goes through backward
    page = html.render(no_tanh_derivative)
    assert page.count("counted here too") == 2
    assert f'The same mistake as <a href="#{wh}"><code>{wh}</code></a>, counted here too.' in page
    assert f'id="{wh}"' in page
    assert f"the same mistake as {wh}, counted here too" in "\n".join(
        terminal.lines(no_tanh_derivative)
    )
    outputs = {t["number"]: t["output"] for t in gradescope.as_dict(no_tanh_derivative)["tests"]}
    assert (
        f"The same mistake as {wh}, counted here too." in outputs[bh]
        and "counted here" not in outputs[wh]
    )
    assert f"The same mistake as {wh}, counted here too." in junit.render(no_tanh_derivative)


@pytest.mark.parametrize("shape", [(10, 2), (2, 10), (1, 10), (10, 1)])
def test_heatmap_titles_never_overlap_and_the_caption_names_both_scales(shape, monkeypatch):
    """∇Wh is 10×2: three narrow panels side by side. Their titles must stay apart, and the
    caption must say what the colours are: one scale for expected and received, one for the
    difference."""
    figures = []
    monkeypatch.setattr(
        plots.figures,
        "as_plot",
        lambda fig, caption, kind: figures.append((fig, caption)) or caption,
    )
    rows, cols = shape
    expected = [[(i - j) / 7 for j in range(cols)] for i in range(rows)]
    received = [
        [v + (1 if (i, j) == (0, 0) else 0) for j, v in enumerate(r)]
        for i, r in enumerate(expected)
    ]
    assert plots.gradient_heatmap(Gradient("∇Wh", expected=expected, received=received))
    fig, caption = figures[0]
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in fig.texts]
    assert len(boxes) == 3
    for a, b in ((0, 1), (1, 2), (0, 2)):
        assert not boxes[a].overlaps(boxes[b]), (shape, a, b)
    meshes = [ax.collections[0] for ax in fig.axes]
    (lo0, hi0), (lo1, hi1), (lo2, hi2) = [(m.norm.vmin, m.norm.vmax) for m in meshes]
    assert (lo0, hi0) == (lo1, hi1) != (lo2, hi2)
    assert f"±{hi0:.2g}" in caption and f"±{hi2:.2g}" in caption and "scale of its own" in caption
    assert [m.get_cmap().name for m in meshes] == ["RdBu_r", "RdBu_r", "PuOr_r"]
    assert (
        "blue negative, red positive" in caption and "purple negative, orange positive" in caption
    )


def test_plots_drawn_ahead_while_grading_are_the_report_plots():
    report = report_with_plots()
    ahead = Ahead([REPORT["html"]])
    for t in report.tests:
        ahead.add(t)
    drafts = ahead.finish()
    same_ids = lambda text: re.sub(r"\bp\d+-", "p-", text)  # noqa: E731 - each plot's own id prefix
    assert drafts["html"].plots and same_ids(html.render(report, ahead=drafts["html"])) == same_ids(
        html.render(report)
    )
    partial = Ahead([REPORT["html"]])
    partial.add(report.tests[0])
    drawn = partial.finish()["html"]
    assert same_ids(html.render(report, ahead=drawn)) == same_ids(
        html.render(report)
    )  # saw one test: redrawn


def test_html_folds_passed_checks_and_links_to_the_first_failure():
    page = html.render(report_with_plots())
    assert page.count('<details class="test passed"') == 4 and "<details open" not in page
    assert page.count('<article class="test failed"') == 3
    first = re.search(r'<p class="first"><a href="#([^"]+)">', page)
    assert first and first.group(1) == "tp1_manual::backward::grad_Wy"
    assert f'id="{first.group(1)}"' in page


def test_html_names_a_part_not_started_and_the_files_not_graded():
    report = report_with_plots()
    report.parts[0].ignored = [{"source": "tp1_manual.py", "why": "the template as handed out"}]
    report.parts[4].started = False
    page = html.render(report)
    assert "Not graded: tp1_manual.py (the template as handed out)" in page
    assert "<strong>Not started:</strong> tp2_cnn.py is the template as handed out" in page
