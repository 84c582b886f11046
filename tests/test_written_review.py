"""`grade review` in a real headless browser (Debian's Chromium and chromedriver, driven by
Selenium): a class of 20 graded by `grade batch`, marked question by question with the
keyboard, the server killed (SIGKILL) and restarted halfway, a group marked at once; then a
rerun of `grade batch` puts exactly the marks given into grades.csv, the Gradescope files,
the summary and the students' reports. Skipped where Chromium or its driver is absent."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import written_corpus as corpus
from conftest import ROOT

CHROMIUM = next(
    (p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None
)
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium and chromedriver are not installed",
)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BOTH = {
    "1-ab": corpus.plan("1-ab", skip=(9,), merged=(5, 6)),
    "1-cd": corpus.plan("1-cd", skip=(12,)),
}
AB = {"1-ab": corpus.plan("1-ab", skip=(1, 13))}
CD = {"1-cd": corpus.plan("1-cd", merged=(26, 27))}
COPIED = (
    "**3. Why activations?** Without a non-linear activation between them, "
    "the two layers compose into "
    "one linear map, which cannot separate the circles.\n"
)


def make_class(root: Path) -> Path:
    """20 students: the template's code, and a report in each form (s20 hands in none)."""
    template = (ROOT / "student_template" / "answers.py").read_text()
    for i in range(1, 21):
        folder = root / f"s{i:02d}"
        folder.mkdir(parents=True)
        (folder / "answers.py").write_text(template)
        if i <= 5:
            (folder / "report.md").write_text(corpus.bold_markdown(BOTH, french=i % 2 == 0))
        elif i <= 8:
            corpus.pdf(corpus.answer_only(BOTH), folder / "report.pdf")
        elif i <= 12:
            (folder / "1_ab_Intro_to_NNs.ipynb").write_bytes(corpus.notebook(AB))
            (folder / "1_cd_CNNs.ipynb").write_bytes(corpus.notebook(CD))
        elif i <= 17:
            (folder / "answers.txt").write_text(corpus.paren_lines(AB, french=True))
        elif i <= 19:
            (folder / "report.md").write_text(COPIED)
    return root


def grade_batch(class_dir: Path, out: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "batch",
            str(class_dir),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--parts",
            "answers",
            "--gradescope",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


class Review:
    """`grade review OUT` in a process of its own, its address read from what it prints."""

    def __init__(self, out: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "review", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for line in self.proc.stdout:
            if m := re.search(r"(http://127\.0\.0\.1:\d+/)index\.html\?token=(\S+)", line):
                self.base, self.token = m[1], m[2]
                return
        raise AssertionError(f"grade review printed no address: {self.proc.stderr.read()}")

    def page(self, key: str) -> str:
        return f"{self.base}{key}.html?token={self.token}"

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def read_grades(out: Path) -> dict[str, dict]:
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    return {row["id"]: row for row in csv.DictReader(io.StringIO(text))}


def active_card(driver):
    return driver.switch_to.active_element.find_element(By.XPATH, "ancestor-or-self::article")


def mark_by_keyboard(driver, mark: float, comment: str = "") -> str:
    """Mark the selected answer with the keyboard: `m`, the mark, Enter (saved, and on to
    the next answer)."""
    card = active_card(driver)
    sid = card.get_attribute("data-sid")
    actions = webdriver.ActionChains(driver)
    if comment:
        card.find_element(By.NAME, "comment").send_keys(comment, Keys.ESCAPE)
    actions.send_keys("m").perform()
    driver.switch_to.active_element.send_keys(Keys.CONTROL, "a")
    driver.switch_to.active_element.send_keys(f"{mark:g}", Keys.ENTER)
    WebDriverWait(driver, 10).until(
        lambda d: card.find_element(By.CLASS_NAME, "status").text == "saved"
    )
    return sid


def test_mark_a_class_by_question_kill_restart_group_and_merge(tmp_path, browser):
    class_dir, out = make_class(tmp_path / "class"), tmp_path / "out"
    grade_batch(class_dir, out)
    assert not any(
        "Written answers" in p.read_text() for p in (out / "reports").glob("*.html")
    )  # nothing yet
    given: dict[tuple[str, str], float] = {}
    comments = {}

    review = Review(out)
    browser.get(review.page("1-ab-Q3"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "article.answer")) == 20
    assert "near-identical to s19" in browser.find_element(By.CSS_SELECTOR, '[data-sid="s18"]').text
    assert "not answered" in browser.find_element(By.CSS_SELECTOR, '[data-sid="s20"]').text
    assert "a suggestion" in browser.page_source
    for k in range(10):
        mark = (0, 0.5, 1)[k % 3]
        comment = "Say why a composition of linear maps is linear." if k == 0 else ""
        sid = mark_by_keyboard(browser, mark, comment)
        given[sid, "1-ab Q3"] = mark
        if comment:
            comments[sid] = comment
    review.kill()  # mid-way, without warning

    review = Review(out)  # a new token: the old address is refused
    browser.get(review.page("1-ab-Q3"))
    assert browser.find_element(By.ID, "progress").text == "10 / 20 marked"
    done = {
        c.get_attribute("data-sid")
        for c in browser.find_elements(By.CSS_SELECTOR, "article.answer.done")
    }
    assert done == {sid for sid, _ in given}
    for k in range(10):
        sid = mark_by_keyboard(browser, (1, 0.25)[k % 2])
        given[sid, "1-ab Q3"] = (1, 0.25)[k % 2]
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "progress").text == "20 / 20 marked"
    )

    browser.get(review.page("1-cd-Q8"))  # a whole group at once
    group = browser.find_element(By.CSS_SELECTOR, ".group")
    cards = group.find_elements(By.CSS_SELECTOR, "article.answer")
    assert len(cards) > 1
    cards[0].click()
    field = cards[0].find_element(By.NAME, "mark")
    field.clear()
    field.send_keys("0.5")
    group.find_element(By.CLASS_NAME, "group-mark").click()
    WebDriverWait(browser, 10).until(
        lambda d: all(c.find_element(By.CLASS_NAME, "status").text == "saved" for c in cards)
    )
    for c in cards:
        given[c.get_attribute("data-sid"), "1-cd Q8"] = 0.5
    review.kill()

    grade_batch(class_dir, out)  # the rerun merges the marks
    grades = read_grades(out)
    labels = [h for h in next(iter(grades.values())) if re.fullmatch(r"1-(ab|cd) Q\d+", h)]
    assert len(labels) == 51
    for sid, row in grades.items():
        for label in labels:
            want = given.get((sid, label))
            assert row[label] == ("" if want is None else f"{want:g}"), (sid, label)
        marks = [v for (s, _), v in given.items() if s == sid]
        assert row["written"] == f"{sum(marks):g}"
    sid = next(iter(comments))
    report = (out / "reports" / f"{sid}.html").read_text()
    assert "Written answers" in report and comments[sid] in report and "key phrase" not in report
    gradescope = json.loads((out / "gradescope" / f"{sid}.json").read_text())
    written = [t for t in gradescope["tests"] if t["number"].startswith("written:")]
    assert [t["score"] for t in written] == [given[sid, "1-ab Q3"]] + (
        [0.5] if (sid, "1-cd Q8") in given else []
    )
    assert "Written answers" in (out / "summary.html").read_text()
