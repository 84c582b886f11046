"""The split of a written report into one answer per question, over a corpus of reports
in every form students hand in (tests/written_corpus.py): it finds every answer and no
false one, whatever the numbering, the language, the file format."""

from __future__ import annotations

import pytest
import written_corpus as corpus

from grader.written.reading import read_report
from grader.written.splitting import split, split_documents

Q = corpus.QUESTIONS
BOTH = {
    "1-ab": corpus.plan("1-ab", skip=(9,), merged=(5, 6)),
    "1-cd": corpus.plan("1-cd", skip=(12, 30)),
}
REORDERED = {"1-ab": corpus.plan("1-ab", swap=(7, 8)), "1-cd": corpus.plan("1-cd", merged=(2, 3))}
AB_ONLY = {"1-ab": corpus.plan("1-ab", skip=(1, 13))}
CD_ONLY = {"1-cd": corpus.plan("1-cd", skip=(21,), merged=(26, 27))}


def assert_split(answers, plans, unsure_ok=()) -> None:
    want = corpus.expected(plans)
    assert sorted(answers) == sorted(want), "missing or false answers"
    for key, answer in answers.items():
        tags = {f"{h}#{n}" for h, n in corpus.TAG.findall(answer.text)}
        assert tags == want[key], f"{key} holds {sorted(tags)}: {answer.text[:200]!r}"
        if key not in unsure_ok:
            assert not answer.flags, f"{key}: {answer.flags}"


FORMS = {
    "bold, both handouts, skipped and merged": (corpus.bold_markdown, BOTH, False),
    "bold, reordered, French": (corpus.bold_markdown, REORDERED, True),
    "question line then paragraphs": (corpus.paren_lines, BOTH, False),
    "question line then paragraphs, French, 1-ab only": (corpus.paren_lines, AB_ONLY, True),
    "answer-only paragraphs, numbering restarts": (corpus.answer_only, BOTH, False),
    "answer-only paragraphs, French, 1-cd only": (corpus.answer_only, CD_ONLY, True),
}


@pytest.mark.parametrize("form", FORMS)
def test_markdown_and_text_forms(form):
    make, plans, french = FORMS[form]
    assert_split(split(make(plans, french), Q).answers, plans)


def test_answer_only_list_items():
    plans = {"1-ab": corpus.plan("1-ab", skip=(2,)), "1-cd": corpus.plan("1-cd", merged=(8, 9))}
    assert_split(split(corpus.answer_only(plans, bullet="- "), Q).answers, plans)


def test_lists_inside_answers_are_not_questions():
    text = corpus.answer_only(AB_ONLY)
    assert "\n1. first, the forward pass\n2. then the loss\n3. then the update" in text
    answers = split(text, Q).answers
    assert "then the update" in answers["1-ab-Q3"].text and "1-ab-Q1" not in answers


def test_latex_and_figures_stay_in_their_answer():
    answer = split(corpus.bold_markdown(BOTH), Q).answers["1-ab-Q16"].text
    assert "\\nabla_{W_y}" in answer and "[figure]" in answer and "Figure 2" in answer


def test_merged_answers_name_each_other():
    answers = split(corpus.bold_markdown(BOTH), Q).answers
    assert answers["1-ab-Q5"].together == ("1-ab-Q6",) and answers["1-ab-Q6"].together == (
        "1-ab-Q5",
    )


def test_pdf_report_both_handouts(tmp_path):
    """A real PDF (two pages and more, lines wrapped as a PDF lays them out), read by pypdf."""
    folder = tmp_path / "alice"
    folder.mkdir()
    corpus.pdf(corpus.answer_only(BOTH), folder / "report.pdf")
    (folder / "tp1_manual.py").write_text("# 1. code is not read as a report\n")
    report = read_report(folder)
    assert [name for name, _ in report.documents] == ["report.pdf"] and not report.notes
    assert_split(split_documents(report.documents, Q).answers, BOTH)


def test_pdf_bold_questions_in_french(tmp_path):
    path = corpus.pdf(corpus.bold_markdown(REORDERED, french=True), tmp_path / "rapport.pdf")
    assert_split(split_documents(read_report(path.parent).documents, Q).answers, REORDERED)


def test_notebook_markdown_cells(tmp_path):
    folder = tmp_path / "bob"
    folder.mkdir()
    (folder / "1_ab_Intro_to_NNs.ipynb").write_bytes(corpus.notebook(AB_ONLY))
    (folder / "1_cd_CNNs.ipynb").write_bytes(corpus.notebook(CD_ONLY))
    report = read_report(folder)
    assert len(report.documents) == 2
    answers = split_documents(report.documents, Q).answers
    assert_split(answers, {**AB_ONLY, **CD_ONLY})


def test_a_report_file_wins_over_the_notebooks(tmp_path, make_zip=None):
    import zipfile

    path = tmp_path / "carol.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("carol/report.md", corpus.bold_markdown(AB_ONLY))
        z.writestr("carol/1_ab_Intro_to_NNs.ipynb", corpus.notebook(CD_ONLY))
    report = read_report(path)
    assert [name for name, _ in report.documents] == ["carol/report.md"]


def test_an_unsure_split_says_so():
    """Bare numbers where a stray `5.` sits inside answer 3: flagged, not silently trusted."""
    text = (
        "1. The training set fits the parameters.\n2. More examples generalise better.\n"
        "3. A composition of linear maps is still linear, see:\n5. a stray line\n"
        "4. nx = 2 is the input dimension.\n"
    )
    answers = split(text, Q).answers
    assert (
        answers["1-ab-Q3"].flags or answers.get("1-ab-Q5") is not None and answers["1-ab-Q5"].flags
    )


def test_no_numbering_means_no_answer_and_a_note():
    result = split("I did the practicals and everything works.\nThe network learns.\n", Q)
    assert result.answers == {} and result.notes


def test_unreadable_pdf_is_a_note_not_a_crash(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    (tmp_path / "notes.md").write_text(
        "**1. Question?** The training set fits the parameters [1-ab#1].\n"
    )
    report = read_report(tmp_path)
    assert len(report.notes) == 1 and "report.pdf" in report.notes[0]
    assert [n for n, _ in report.documents] == ["notes.md"]


@pytest.mark.parametrize(
    "text, lists_in",
    [
        (
            "1. The training set fits the parameters.\n"
            "2. More examples generalise better. Three effects:\n"
            "1. less variance\n2. better estimate\n3. more computation\n"
            "3. A composition of linear maps is linear.\n"
            "4. nx = 2 is the input dimension.\n",
            "1-ab-Q2",
        ),
        (
            "1. The training set fits the parameters. Steps:\n"
            "1. less variance\n2. better estimate\n"
            "2. More examples generalise better.\n3. A composition of linear maps is linear.\n",
            "1-ab-Q1",
        ),
    ],
)
def test_a_list_as_long_as_the_next_number_is_kept_in_its_answer_and_flagged(text, lists_in):
    """`2.` then a list 1-3 then `3.`: which `3.` starts Q3 is a guess on numbers alone; the
    split keeps the list in its answer and says that it is unsure."""
    answers = split(text, Q).answers
    assert "better estimate" in answers[lists_in].text and "less variance" in answers[lists_in].text
    assert (
        "linear maps" in answers["1-ab-Q3"].text
        and "better estimate" not in answers["1-ab-Q3"].text
    )
    assert answers[lists_in].flags


def test_heading_questions_with_bold_numbered_lists_inside_and_a_plain_last_one():
    """`### 9. **question**` headings; inside an answer, `1. **Case y=0**:` items (bold, yet
    no question); the last answer on a bare `17.` line; Obsidian's `![[image]]`."""
    lines = []
    for n in range(1, 17):
        lines += [
            f"### {n}. **Question {n} of the handout?**" if n % 2 else f"### {n}. Question {n}",
            f"Answer [1-ab#{n}].",
        ]
        if n == 9:
            lines += [
                "Two cases: 1. **Cross-entropy for y=0**:",
                "    ",
                "it is 0.",
                "",
                "2. **Squared error for y=0**:",
                "    it is y^2.",
                "## 1.4 Optimization algorithm",
            ]
    lines += ["17.  Compute the other gradients", "![[gradients.pdf]]", "Answer [1-ab#17]."]
    answers = split("\n".join(lines), Q).answers
    assert_split(answers, {"1-ab": [(n,) for n in range(1, 18)]})
    assert (
        "Squared error" in answers["1-ab-Q9"].text and "Question 9" not in answers["1-ab-Q9"].text
    )
    assert "[figure]" in answers["1-ab-Q17"].text


def test_a_second_handout_alone_numbered_q1_to_q24_under_part_headings():
    lines = ["# Answers", "## Part 1"]
    for n in [*range(1, 13), 14, 16, 17, 18, 19, 20, 24]:
        lines += (["## Part 2"] if n == 8 else []) + [
            f"### Q{n}",
            "",
            f"Answer [1-cd#{n}].",
            "1. one",
            "2. two",
        ]
    result = split("\n".join(lines), Q)
    assert_split(
        result.answers, {"1-cd": [(n,) for n in [*range(1, 13), 14, 16, 17, 18, 19, 20, 24]]}
    )
    assert result.notes == [
        "no heading names a handout: 1-cd inferred from the numbering and the key "
        "phrases of the answers"
    ]


def test_chapters_of_a_report_and_a_third_part_numbered_again():
    """`Chapter 2` / `Convolutional ...` starts TP 1-cd; `Chapter 3` a part of the course this
    lab does not declare, numbered Q1... again: left out, said in a note, not answers."""
    ab = [f"Q{n}. Question {n} of the first handout?\nAnswer [1-ab#{n}]." for n in range(1, 18)]
    cd = [f"Q{n}. Question {n} of the second?\nAnswer [1-cd#{n}]." for n in range(1, 35) if n != 13]
    other = [
        f"Q{n}. A question of another practical?\nNot an answer of this lab." for n in range(1, 8)
    ]
    text = "\n".join(
        [
            "Contents",
            "1 Introduction to Neural Networks 1",
            "Chapter 1",
            "Introduction to Neural Networks",
            "1.1 Theoretical foundation",
            *ab,
            "Chapter 2",
            "Convolutional Neural Networks",
            "2.1 Introduction to Convolutional Networks",
            *cd,
            "Chapter 3",
            "Transformers",
            *other,
        ]
    )
    result = split(text, Q)
    assert_split(
        result.answers, {"1-ab": corpus.plan("1-ab"), "1-cd": corpus.plan("1-cd", skip=(13,))}
    )
    assert any("left out" in note for note in result.notes)


def test_numbered_items_inside_answers_of_a_report_that_marks_questions_with_question_marks():
    """Answers under `2. What ...?` lines hold `1. Output size:` items, and a long list whose
    `4.`, `5.` items come after the true `4.` and `5.` answers (bare, without `?`)."""
    text = "\n".join(
        [
            "Practical work report",
            "1. Considering a single convolution filter, what is the output size?",
            "Answer [1-cd#1].",
            "1. Output size:",
            "x' = (x + 2p - k) / s + 1",
            "2. Number of weights:",
            "k * k * z",
            "2. What are the advantages of convolution? What is its limit?",
            "Answer [1-cd#2].",
            "3. Why do we use spatial pooling?",
            "Answer [1-cd#3].",
            "4. Suppose we compute the output for a larger input image",
            "Answer [1-cd#4].",
            "5. Show that fully-connected layers are particular convolutions.",
            "Answer [1-cd#5].",
            "6. What is the total number of weights to learn?",
            "Answer [1-cd#6].",
            "1. Convolutional Layer 1:",
            "2432",
            "2. Convolutional Layer 2:",
            "51264",
            "3. Convolutional Layer 3:",
            "102464",
            "4. Fully Connected Layer 4:",
            "1025000",
            "5. Fully Connected Layer 5:",
            "10010",
            "7. What are the sizes of the receptive fields?",
            "Answer [1-cd#7].",
        ]
    )
    assert_split(split(text, Q).answers, {"1-cd": [(n,) for n in range(1, 8)]})


def test_a_question_wrapped_over_lines_is_not_part_of_the_answer():
    text = (
        "Q1. What are the train, val and test sets used for?\nThe training set fits the weights.\n"
        "Q2. What is the influence of the number of examples N?\nMore examples generalise better.\n"
        "Q3. Why is it important to add activation functions between linear\ntransformations?\n"
        "Otherwise the network stays linear.\n"
        "Q5. What do the vectors y-hat and y represent? What is the difference between these\n"
        "two quantities?\ny-hat is the prediction, y the label.\n"
    )
    answers = split(text, Q).answers
    assert answers["1-ab-Q3"].text == "Otherwise the network stays linear."
    assert answers["1-ab-Q5"].text == "y-hat is the prediction, y the label."
