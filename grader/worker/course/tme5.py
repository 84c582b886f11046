"""The course's former name for ``utils-data.py``: the same names."""

from utils_data import *  # noqa: F401,F403
