"""The inputs the checks use: pure functions of the seed, shared by the rubric and the oracle."""
