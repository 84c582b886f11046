"""Issue 29, the class summary on a phone (390 px) and a laptop (1280 px), in headless
Chromium: no header or id broken inside a word, every score on one line, and a table wider
than the screen scrolls within itself, never the page."""

from __future__ import annotations

import json

import pytest
from test_browser import CHROMIUM, class_rows, in_iframe, report_with_plots, screenshot

from grader.labs.rdfia import LAB
from grader.render import CLASS
from grader.results import Graded

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")

MEASURE = """
function lines(range) {
  var tops = {};
  Array.prototype.forEach.call(range.getClientRects(), function (r) {
    if (r.width > 0) tops[Math.round(r.top)] = 1;
  });
  return Object.keys(tops).length;
}
var broken = [], split = [], unscrolled = [], scrolling = 0;
d.querySelectorAll("th, .id").forEach(function (el) {
  var walk = d.createTreeWalker(el, NodeFilter.SHOW_TEXT), node;
  while ((node = walk.nextNode())) {
    var words = /[^\\s-]+-?/g, m;  // a break after a hyphen is between words
    while ((m = words.exec(node.data))) {
      var r = d.createRange();
      r.setStart(node, m.index);
      r.setEnd(node, m.index + m[0].length);
      if (lines(r) > 1) broken.push(m[0]);
    }
  }
});
d.querySelectorAll("td.num").forEach(function (el) {
  var r = d.createRange();
  r.selectNodeContents(el);
  if (lines(r) > 1) split.push(el.textContent.trim());
});
d.querySelectorAll("table").forEach(function (t) {
  if (getComputedStyle(t).overflowX !== "auto" || t.getBoundingClientRect().right > W + 0.5)
    unscrolled.push(t.closest("section").id);
  if (t.scrollWidth > t.clientWidth) scrolling += 1;
});
return JSON.stringify({broken: broken, split: split, unscrolled: unscrolled, scrolling: scrolling,
                       width: d.documentElement.scrollWidth,
                       tables: d.querySelectorAll("table").length});
"""


@pytest.fixture(scope="module")
def summary() -> str:
    names = ["Zoé Müller-Lefèvre", "Maël Østergaard-Håkansson"]  # as Moodle names them
    rows = class_rows() + [
        Graded(f"{name}_{100 + k}", name, report=report_with_plots())
        for k, name in enumerate(names)
    ]
    return CLASS["summary.html"].render(rows, LAB.part_names, seed=0)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_summary_reads_on_a_phone_and_a_laptop(summary, tmp_path, width):
    found = json.loads(in_iframe(summary, tmp_path, width, MEASURE))
    assert found["tables"] >= 5
    assert found["broken"] == [], "headers or ids broken inside a word"
    assert found["split"] == [], "scores split over lines"
    assert found["unscrolled"] == [] and found["width"] <= width
    if width == 390:
        assert found["scrolling"] >= 1  # the pass-rate table is wider than a phone: it scrolls
    page = tmp_path / "summary.html"
    page.write_text(summary, encoding="utf-8")
    pixels = screenshot(page, tmp_path, width, 1600)
    assert (pixels[..., :3] < 0.5).any(axis=2).mean() > 0.005  # text was drawn
