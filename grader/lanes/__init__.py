"""A submission's assignments, each graded in a lane of its own: a worker of its own
(`Sandboxes`), and in `grade check` on Linux, a grading process of its own beside the others.

`grade check` starts a zygote (`grader.sandbox.zygote`), which forks the grading processes,
its helpers (`python -m grader.lanes FD`): clean as `grade batch`'s, since the zygote never
ran student code, and with torch imported before the fork. Each grades a group of lanes and
writes its `Report` back as JSON; `grade check` then imports no torch, and renders (with one
group, on one core or with one lane that has code to grade, it grades the group itself). The
verdicts are those of grading the lanes one after the other in one process, as `grade batch`
does: each lane has a worker of its own either way. A helper that cannot start, fails or
dies costs time only: its lanes are graded in `grade check`'s process instead.

Modules: `scheduler` (the `Lanes`: which group is graded where), `helper` (a helper
process, as seen from `grade check`), `__main__` (the helper itself).
"""

from grader.lanes.scheduler import Lanes

__all__ = ["Lanes"]
