"""The results model back from the contract's JSON (what a job returns, what OUT keeps),
by the one serialisation of a Report (`grader.results.from_dict`)."""

from __future__ import annotations

import dataclasses

from grader.results import Report, from_dict

# What reading back a JSON that is not the grader's (damaged, edited) raises, here or in json.loads.
MALFORMED = (ValueError, KeyError, TypeError, AttributeError)


def report_from_json(data: dict, seed: int) -> Report:
    """The report, at the `seed` OUT keeps."""
    return dataclasses.replace(from_dict(data), seed=seed)
