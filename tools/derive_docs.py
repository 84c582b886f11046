"""Write the prose that states the rubric's totals from the lab's declaration.

    python tools/derive_docs.py          # rewrite the generated regions
    python tools/derive_docs.py --check  # exit 1, naming the stale regions, if one is out of date

A generated region of README.md or docs/CONTRACT.md lies between the lines
``<!-- generated: NAME (tools/derive_docs.py) -->`` and ``<!-- end -->``. Its numbers come
from the lab (`grader.labs.current()`) and the checks its rubric declares (collected, not
run), so adding a check changes code only, then this tool is run again:

- ``parts`` (the contract): the parts table, each part's checks and points, each
  assignment's total and the lab's;
- ``sample-report`` (the README): a student's terminal summary. The checks it shows failing
  are `SAMPLE_FAILED`; its totals, its part lines, its "N of M checks" and each failed
  check's points are derived, its messages are the rubric's, pasted.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from grader.lab import Lab
from grader.labs import current
from grader.runner import declared_checks

ROOT = Path(__file__).resolve().parents[1]
TOOL = "tools/derive_docs.py"
REGION = re.compile(
    r"(<!-- generated: ([\w-]+) \(tools/derive_docs\.py\) -->\n)(.*?)(<!-- end -->)", re.S
)
# The README's sample student: ∇Wy transposed, no tanh derivative, no zero_grad (as graded).
SAMPLE_FAILED = (
    "tp1_manual::backward::grad_Wy",
    "tp1_manual::backward::grad_Wh",
    "tp1_manual::backward::grad_bh",
    "tp1_manual::training::curves",
    "tp2_cnn::epoch::train_steps",
    "tp2_cnn::epoch::train_results",
    "tp2_cnn::training::short_run",
)


def _fmt(x: float) -> str:
    return f"{x:g}"


class Declared:
    """The lab's checks as the rubric declares them: points by part, by id."""

    def __init__(self, lab: Lab):
        self.lab, self.checks = lab, declared_checks(lab)
        self.points = {c["id"]: c["points"] for c in self.checks}

    def total(self, parts=None) -> float:
        return sum(c["points"] for c in self.checks if parts is None or c["part"] in parts)

    def count(self, part: str) -> int:
        return sum(c["part"] == part for c in self.checks)


def parts_table(declared: Declared, old: str) -> str:
    lab = declared.lab
    rows = ["| part | module file | what it holds | checks | points |", "|---|---|---|---|---|"]
    rows += [
        f"| `{p.name}` | `{p.name}.py` | {p.what} | {declared.count(p.name)} "
        f"| {_fmt(declared.total({p.name}))} |"
        for p in lab.parts
    ]
    sums = "; ".join(
        f"{a.title or a.name}: {_fmt(declared.total(set(a.parts)))} points" for a in lab.assignments
    )
    return "\n".join(rows) + (
        f"\n\n{sums}; {_fmt(declared.total())} in all, over "
        f"{len(declared.checks)} checks (`grade list` lists them).\n"
    )


def sample_report(declared: Declared, old: str) -> str:
    """`old` with its numbers derived: those of its header, its part lines and its failures."""
    unknown = set(SAMPLE_FAILED) - set(declared.points)
    if unknown:
        raise SystemExit(
            f"{TOOL}: SAMPLE_FAILED names checks the rubric does not declare: {sorted(unknown)}"
        )
    lost = {
        p: sum(declared.points[i] for i in SAMPLE_FAILED if i.startswith(f"{p}::"))
        for p in declared.lab.part_names
    }
    total = declared.total()

    def line(text: str) -> str:
        if m := re.fullmatch(r"(\w+): [\d.]+ / [\d.]+ points( .*)", text):
            return f"{m[1]}: {_fmt(total - sum(lost.values()))} / {_fmt(total)} points{m[2]}"
        if (m := re.fullmatch(r"  (\w+) +[\d.]+ / [\d.]+ +(\(.*)", text)) and m[1] in lost:
            score, out_of = declared.total({m[1]}) - lost[m[1]], declared.total({m[1]})
            return f"  {m[1]:<13} {_fmt(score):>5} / {_fmt(out_of):<5}  {m[2]}"
        if m := re.fullmatch(r"\d+ of \d+ checks did not pass:", text):
            return f"{len(SAMPLE_FAILED)} of {len(declared.checks)} checks did not pass:"
        m = re.fullmatch(r"(  (?:FAIL|ERROR) (\S+)) \(0/[\d.]+\)(.*)", text)
        if m and m[2] in declared.points:
            return f"{m[1]} (0/{_fmt(declared.points[m[2]])}){m[3]}"
        return text

    return "\n".join(line(text) for text in old.split("\n"))


REGIONS: dict[str, Callable[[Declared, str], str]] = {
    "parts": parts_table,
    "sample-report": sample_report,
}
FILES = (ROOT / "README.md", ROOT / "docs" / "CONTRACT.md")


def derive(text: str, declared: Declared) -> str:
    def region(m: re.Match) -> str:
        if m[2] not in REGIONS:
            raise SystemExit(f"{TOOL}: no generator for the region {m[2]!r}")
        return m[1] + REGIONS[m[2]](declared, m[3]) + m[4]

    return REGION.sub(region, text)


def stale(lab: Lab | None = None, write: bool = False) -> list[Path]:
    """The files whose generated regions differ from the declaration (rewritten if `write`)."""
    declared, out = Declared(lab or current()), []
    for path in FILES:
        text = path.read_text()
        new = derive(text, declared)
        if new != text:
            out.append(path)
            if write:
                path.write_text(new)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a generated region is out of date",
    )
    args = parser.parse_args(argv)
    paths = stale(write=not args.check)
    for path in paths:
        print(f"{path.relative_to(ROOT)}: {'out of date' if args.check else 'written'}")
    if args.check and paths:
        print(f"run: python {TOOL}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
