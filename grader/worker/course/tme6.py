"""The course's former name (2018-2022) for the TP 1-cd ``utils.py``: the same names."""

from utils import *  # noqa: F401,F403
