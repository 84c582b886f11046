"""`grade isolation`: what the sandbox isolates on this machine (`grader.sandbox.isolation`)."""

from __future__ import annotations

import sys

from grader.sandbox.isolation import protections
from grader.sandbox.kernel import LINUX


def main(args=None) -> int:
    if not LINUX:
        print("not Linux: no isolation but the resource limits", file=sys.stderr)
    rows = protections()
    width = max(len(r["what"]) for r in rows)
    for r in rows:
        print(f"{'yes' if r['in_force'] else 'NO ':4} {r['what']:{width}}  {r['how']}")
    return 0
