"""`torchvision.datasets`: CIFAR-10 only, the grader's."""

from grader.labs.rdfia.worker.colab import CIFAR10  # noqa: F401
