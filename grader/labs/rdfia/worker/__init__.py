"""The RDFIA lab's side of the worker (`Lab.worker`): its probes (`probes/`), the course
helpers students import or `%run` (`course/`), and the Colab and torchvision stand-ins."""

from __future__ import annotations

import os
import sys

from grader.labs.rdfia.worker import colab

COURSE_DIR = os.path.join(os.path.dirname(__file__), "course")


def install() -> None:
    """Once per worker, before student code loads: the course helpers first on the path,
    GPU calls kept on the CPU, CIFAR-10 and Colab served by the grader's own."""
    if COURSE_DIR not in sys.path:
        sys.path.insert(0, COURSE_DIR)
    colab.install()
