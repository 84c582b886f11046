"""`pytest grader/labs/rdfia/rubric`: the rubric on its own, against the reference solution.

The fixtures (`student`, `seed`, `record`) come from the runner's plugin, here given the
reference as the submission, in the same sandboxes as `grade check`. The grader itself
runs the rubric with `--noconftest` and a plugin of its own.
"""

import pytest

from grader.labs.rdfia import LAB


def pytest_configure(config):
    if not LAB.reference.is_dir():
        raise pytest.UsageError(
            "this edition of the grader holds no reference to run the rubric against"
        )
    from grader.runner import GraderPlugin
    from grader.sandbox import Limits, Sandbox
    from grader.sandbox.sandboxes import Sandboxes
    from grader.submission import open_submission

    reference = open_submission(LAB.reference, LAB)
    sandboxes = Sandboxes(lambda: Sandbox(Limits(), reference.files))
    config.pluginmanager.register(
        GraderPlugin(reference, 0, LAB.part_names, sandboxes), "grader-reference"
    )
