"""The names that the worker's training probes and the trusted checks share (here: the worker
imports only `grader.worker` and the folders its lab declares). A training probe returns one list an epoch
for each of CURVE_KEYS and, under BOUNDARY, the trained network's predictions on the course
grid; the check wraps them into the typed artifacts of `grader.artifacts`.
"""

CURVE_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")
BOUNDARY = "boundary"
