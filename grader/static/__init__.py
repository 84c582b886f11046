"""What a submission's source shows, read on the trusted side with `ast` (nothing runs),
one reading a module: `cheats` (the cheat report, with `obfuscation`: code that hides what
it reaches), `by_hand` (autograd where gradients are computed by hand), `stubs` (how much
is more than the template's stubs) and `imports` (what its code imports); `source` holds
what they share. The worker is never asked: student code runs beside its probes and could
answer anything."""

from grader.static.by_hand import autograd_uses
from grader.static.cheats import Flag, cheat_report, reaches
from grader.static.imports import imported
from grader.static.stubs import implemented

__all__ = ["Flag", "autograd_uses", "cheat_report", "implemented", "imported", "reaches"]
