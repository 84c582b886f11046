"""The `grade` command. Thin: it parses arguments and calls one `main` per command."""
from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grade", description="Autograder for the RDFIA practicals TP 1-ab and TP 1-cd.")
    commands = p.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="grade one submission (a folder, a .ipynb or a .zip)")
    check.add_argument("path", help="the submission")
    check.add_argument("--json", metavar="FILE", help="write the results as JSON (the contract's format)")
    check.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per check (for CI)")
    check.add_argument("--gradescope", metavar="FILE", help="write Gradescope's results.json")
    check.add_argument("--html", metavar="FILE", help="where to write the HTML report (default reports/NAME.html)")
    check.add_argument("--seed", type=int, default=0, help="seed of the test inputs (default 0)")
    check.add_argument("--timeout", type=float, default=60.0, help="seconds allowed to one call of student code")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":
        from grader import check
        return check.main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
