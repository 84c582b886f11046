"""The instructor's solution of every part of the lab contract."""
