"""The HTML report in a real browser: headless Chromium renders a hand-made report with
every kind of plot to a PNG, at a desktop width and at a phone width. Skipped where
Chromium is absent (`.ci/run` installs it on CI)."""

from __future__ import annotations

import html as html_text
import re
import shutil
import subprocess

import pytest
from test_render import report_with_plots

from grader.labs.rdfia import LAB
from grader.render import CLASS, html
from grader.results import FAILED, Graded

CHROMIUM = next(
    (
        path
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (path := shutil.which(name))
    ),
    None,
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(html.render(report_with_plots()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def blank_plots_page(page):
    """The same page with every SVG emptied (its size kept): the layout does not move."""
    path = page.with_name("blank.html")
    path.write_text(re.sub(r"(<svg\b[^>]*>).*?</svg>", r"\1</svg>", page.read_text(), flags=re.S))
    return path


def screenshot(page, folder, width: int, height: int):
    """Chromium's screenshot of the page as an (height, width, channels) float array."""
    from matplotlib import image

    folder.mkdir(parents=True, exist_ok=True)
    png = folder / f"shot-{width}.png"
    profile = folder / f"profile-{width}"  # a fresh profile: no state shared between runs
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={width},{height}",
        page.as_uri(),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert png.exists(), f"no screenshot (exit {run.returncode}): {run.stderr[-2000:]}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return image.imread(png)


def colour_count(pixels, rgb, tolerance=0.06) -> int:
    """How many pixels are close to a colour (0-255 values)."""
    target = [c / 255 for c in rgb]
    close = abs(pixels[..., 0] - target[0]) < tolerance
    for k in (1, 2):
        close &= abs(pixels[..., k] - target[k]) < tolerance
    return int(close.sum())


def test_desktop_screenshot_shows_the_report(page, tmp_path):
    pixels = screenshot(page, tmp_path, 1280, 2000)
    assert pixels.shape[:2] == (2000, 1280)
    rgb = pixels[..., :3]
    distinct = {tuple(p) for p in (rgb[::7, ::7] * 255).round().astype(int).reshape(-1, 3).tolist()}
    assert len(distinct) > 200  # text, bars and plots, not a blank page
    assert (rgb < 0.5).any(axis=2).mean() > 0.005  # some dark ink: the text
    assert colour_count(rgb, (0xC0, 0x36, 0x2C)) > 500  # the failed checks' red border
    assert colour_count(rgb, (0x1A, 0x7F, 0x37)) > 500  # the passing bars' green


def test_the_svg_plots_are_drawn(page, blank_plots_page, tmp_path):
    """Against the same page with empty SVGs of the same size: only the plots' pixels differ,
    and there are many of them (the failed checks' two heatmaps, curves and boundary in the first
    2000 px; a passed check's plots are folded with it)."""
    drawn = screenshot(page, tmp_path, 1280, 2000)[..., :3]
    blank = screenshot(blank_plots_page, tmp_path / "blank", 1280, 2000)[..., :3]
    changed = (abs(drawn - blank) > 0.05).any(axis=2)
    assert changed.sum() > 25_000
    rows = changed.any(axis=1).nonzero()[0]
    assert rows.min() > 300  # the header did not move


def test_phone_screenshot_renders(page, tmp_path):
    pixels = screenshot(page, tmp_path, 390, 844)
    assert pixels.shape[:2] == (844, 390)
    rgb = pixels[..., :3]
    distinct = {tuple(p) for p in (rgb[::3, ::3] * 255).round().astype(int).reshape(-1, 3).tolist()}
    assert len(distinct) > 50
    assert (rgb < 0.5).any(axis=2).mean() > 0.005
    # nothing wider than the screen (the parts table, the plots): the right margin stays background
    assert (rgb[:, -3:] > 0.9).all()


def in_iframe(page: str, folder, width: int, script: str) -> str:
    """What `script` (JavaScript, the page's document as `d`, its width as `W`) returns about
    the page laid out in a viewport `width` px wide: an iframe of that width (a headless
    window is never narrower than 500 px), its page read by a script of the same origin (srcdoc)."""
    probe = folder / f"probe-{width}.html"
    probe.write_text(
        f"""<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:{width}px;height:844px;border:0" srcdoc="{html_text.escape(page, quote=True)}"></iframe>
<script>document.getElementById("f").addEventListener("load", function () {{
  var d = this.contentDocument, W = {width};
  document.body.setAttribute("data-found", (function () {{ {script} }})());
}});</script></body></html>""",
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={folder / 'profile-probe'}",
            f"--window-size={max(800, width + 20)},900",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r'data-found="([^"]*)"', run.stdout)
    assert found, f"the probe did not run (exit {run.returncode}): {run.stderr[-2000:]}"
    return html_text.unescape(found.group(1))


def widest(page: str, folder, width: int) -> tuple[int, list[str]]:
    """(the page's scroll width, the elements past the right edge, but for those inside a
    table that scrolls within itself and ends within the page)."""
    found = in_iframe(
        page,
        folder,
        width,
        """var past = [];
  d.querySelectorAll("body *").forEach(function (e) {
    var box = e.parentElement && e.parentElement.closest("table");
    var inside = box && getComputedStyle(box).overflowX === "auto";
    if (inside && box.getBoundingClientRect().right <= W + 0.5) return;
    if (e.getBoundingClientRect().right > W + 0.5)
      past.push(e.tagName + "." + (e.getAttribute("class") || ""));
  });
  return d.documentElement.scrollWidth + " " + past.join(" ");""",
    )
    width, *past = found.split()
    return int(width), past


def class_rows() -> list[Graded]:
    """A class with long ids, every kind of check and a submission that failed to grade."""
    rows = [
        Graded(
            f"student-with-a-rather-long-name-{i}",
            f"s{i}",
            report=report_with_plots(),
            fingerprints={"tp1_manual": "same"},
        )
        for i in range(4)
    ]
    return rows + [
        Graded(
            "broken-submission",
            "broken-submission.zip",
            FAILED,
            "broken-submission.zip is not a readable zip file (File is not a zip file)",
        )
    ]


@pytest.mark.parametrize("which", ["student report", "class summary"])
def test_nothing_is_wider_than_a_phone(which, tmp_path):
    page = (
        html.render(report_with_plots())
        if which == "student report"
        else CLASS["summary.html"].render(class_rows(), LAB.part_names, seed=0)
    )
    assert "student-with-a-rather-long-name-0" in page or which == "student report"
    width, past = widest(page, tmp_path, 390)
    assert width <= 390 and not past, (width, past)
