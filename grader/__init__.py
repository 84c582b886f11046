"""rdfia-grader: the autograder of the RDFIA practicals TP 1-ab and TP 1-cd."""
from grader.expected import edition

__all__ = ["edition"]
