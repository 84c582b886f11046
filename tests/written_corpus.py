"""A corpus of written reports in every form students hand them in (tests/test_written_*):
each answer carries a tag `[1-ab#3]` so that a test can check which text went where."""

from __future__ import annotations

import json
import re
from pathlib import Path

from grader.labs.rdfia import LAB
from grader.written.questions import load

QUESTIONS = load(LAB.questions)
TAG = re.compile(r"\[(1-ab|1-cd)#(\d+)\]")

FRENCH = {
    1: "L'ensemble d'apprentissage sert à apprendre les paramètres, "
    "la validation à régler les hyperparamètres",
    2: "Plus N est grand, meilleure est la généralisation",
    3: "Sans activation, la composition de fonctions linéaires reste linéaire",
    4: "nx = 2 et ny = 2, le nombre de classes ; nh est un hyperparamètre libre",
    6: "La SoftMax donne une distribution de probabilité : des valeurs positives de somme 1",
    10: "Le batch complet, la version stochastique et le mini-batch, un compromis",
    11: "Un pas trop grand fait diverger, un pas trop petit est lent",
    15: "Le gradient vaut $\\hat y - y$",
}
NESTED = "\n1. first, the forward pass\n2. then the loss\n3. then the update"
LATEX = "\n$$\\nabla_{W_y} \\ell = \\nabla_{\\tilde y} \\ell \\, h^\\top$$\n"


def answer(handout: str, n: int, french: bool = False) -> str:
    q = next(q for q in QUESTIONS.questions if q.handout == handout and q.number == n)
    text = FRENCH.get(n) if french and handout == "1-ab" else None
    text = text or (q.key_points[0].text[0].upper() + q.key_points[0].text[1:])
    return f"{text} [{handout}#{n}]."


def plan(handout: str, skip=(), merged=None, swap=None) -> list[tuple[int, ...]]:
    """The answers in the order the report gives them: tuples of numbers (two for `Q5-6`)."""
    numbers = [n for n in range(1, QUESTIONS.highest(handout) + 1) if n not in skip]
    items: list[tuple[int, ...]] = []
    for n in numbers:
        if merged and n == merged[1]:
            continue
        items.append(merged if merged and n == merged[0] else (n,))
    if swap:
        a, b = items.index((swap[0],)), items.index((swap[1],))
        items[a], items[b] = items[b], items[a]
    return items


def expected(plans: dict[str, list[tuple[int, ...]]]) -> dict[str, set[str]]:
    """Question key -> the tags its answer must hold."""
    out = {}
    for handout, items in plans.items():
        for item in items:
            for n in item:
                out[f"{handout}-Q{n}"] = {f"{handout}#{m}" for m in item}
    return out


def body(handout: str, item: tuple[int, ...], french: bool = False) -> str:
    text = " ".join(answer(handout, n, french) for n in item)
    if handout == "1-ab" and 3 in item or handout == "1-cd" and 10 in item:
        text += NESTED
    if handout == "1-ab" and 16 in item:
        text += LATEX + "![gradient](grad.png)\nFigure 2: the curves."
    return text


def label(item: tuple[int, ...]) -> str:
    return "-".join(str(n) for n in item)


def question_text(handout: str, n: int) -> str:
    return (
        next(
            q.summary for q in QUESTIONS.questions if q.handout == handout and q.number == n
        ).rstrip(".")
        + "?"
    )


SECTIONS = {
    ("1-ab", 1): "## 1.1 Supervised dataset",
    ("1-ab", 3): "## 1.2 Network architecture",
    ("1-ab", 10): "## 1.3 Learning with SGD",
    ("1-cd", 13): "## 2. Training from scratch",
    ("1-cd", 19): "## 3.1 Standardization of examples",
}


def bold_markdown(plans, french=False) -> str:
    """`**3. Why ...?** Answer`, section headings between, a heading per handout."""
    out = ["# RDFIA report", "Alice Martin"]
    for handout, items in plans.items():
        out.append(
            "# TP 1-ab: intro to neural networks" if handout == "1-ab" else "# TP 1-cd: CNNs"
        )
        for item in items:
            if (handout, item[0]) in SECTIONS:
                out.append(SECTIONS[handout, item[0]])
            question = question_text(handout, item[0])
            out.append(f"**{label(item)}. {question}** {body(handout, item, french)}")
    return "\n\n".join(out) + "\n"


def paren_lines(plans, french=False) -> str:
    """`3) Why ...?` on its own line, the answer in paragraphs below; no handout heading."""
    out = []
    for handout, items in plans.items():
        for item in items:
            out.append(f"{label(item)}) {question_text(handout, item[0])}")
            out.append(body(handout, item, french))
            out.append("This second paragraph says more about it.")
    return "\n\n".join(out) + "\n"


def answer_only(plans, french=False, bullet="") -> str:
    """Bare numbered paragraphs (`1. The training set ...`) or items (`- 1. ...`), with
    numbered section titles of the handout between them; the numbering restarts at 1."""
    out = [
        "Report of the practicals",
        "1 Theoretical foundation" if not french else "1 Fondements théoriques",
    ]
    for handout, items in plans.items():
        for item in items:
            if (handout, item[0]) in SECTIONS:
                out.append(SECTIONS[handout, item[0]].lstrip("# "))
            out.append(f"{bullet}{label(item)}. {body(handout, item, french)}")
    return "\n".join(out) + "\n"


def notebook(plans, french=False) -> bytes:
    """The markdown cells of a notebook: `**Q3.**` then the answer, between code cells."""
    cells = []
    for handout, items in plans.items():
        cells.append({"cell_type": "markdown", "metadata": {}, "source": [f"# Part {handout}"]})
        for item in items:
            cells.append(
                {
                    "cell_type": "markdown",
                    "metadata": {},
                    "source": [f"**Q{label(item)}.** ", body(handout, item, french)],
                }
            )
            cells.append(
                {
                    "cell_type": "code",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": ["x = 1  # 1. not a question\n"],
                }
            )
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def pdf(text: str, path: Path) -> Path:
    """`text` as a real PDF, a line each, 50 lines a page (matplotlib's PDF backend, TrueType
    fonts so that the text can be extracted)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    lines = [piece for line in text.splitlines() for piece in _wrap(line)]
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as out:
        for start in range(0, len(lines), 50):
            fig = Figure(figsize=(8.27, 11.69))
            for i, line in enumerate(lines[start : start + 50]):
                fig.text(0.06, 0.96 - i * 0.019, line, fontsize=8, usetex=False, parse_math=False)
            out.savefig(fig)
    return path


def _wrap(line: str, width: int = 110) -> list[str]:
    """A long line as a PDF lays it out: several lines, broken between words."""
    words, out, current = line.split(" "), [], ""
    for w in words:
        if current and len(current) + 1 + len(w) > width:
            out.append(current)
            current = w
        else:
            current = f"{current} {w}" if current else w
    return out + [current]
