"""The course's own TP 1-cd helper definitions over the years (`tme6.py`, then `utils.py`),
as source: grader data that `Helper.versions` declares, never imported by student code.

A student who ships a copy of the course's file under another name (`tme6_utils.py`), or
pastes its functions into a notebook cell, gets the grader's versions in their place
(`grader.copies`): the course's `accuracy` is the PyTorch ImageNet example's, whose
`.view(-1)` of a transposed tensor fails on PyTorch 2. Docstrings and comments do not count.
"""

from pathlib import Path

_ACCURACY = """
def accuracy(output, target, topk=(1,)):
    maxk = max(topk)
    batch_size = target.size(0)

    _, pred = output.topk(maxk, 1, True, True)
    pred = pred.t()
    correct = pred.eq(target.view(1, -1).expand_as(pred))

    res = []
    for k in topk:
        correct_k = correct[:k].{flatten}(-1).float().sum({sum})
        res.append(correct_k.mul_(100.0 / batch_size))
    return res
"""

# The grader's own `utils.py` keeps the course's other definitions as they are (`AverageMeter`).
_GRADER_UTILS = (Path(__file__).resolve().parent / "worker" / "course" / "utils.py").read_text()

# 2018-2022 (`tme6.py`): `.view(-1)`; later (`utils.py`): `.reshape(-1)`; each with the sum of
# the example's PyTorch 0.4 and later (`keepdim=True`) or before it.
UTILS_VERSIONS = (
    _GRADER_UTILS,
    *(
        _ACCURACY.format(flatten=f, sum=s)
        for f in ("view", "reshape")
        for s in ("0, keepdim=True", "0")
    ),
)
