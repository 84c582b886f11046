"""What a check keeps for the report's plots: the kinds of artifact, named once for the
checks that record them, the worker's probes that produce them (hence here: the worker imports only
`grader.worker` and `grader.data`) and the plots that draw them.

- CURVES: {"student": run, "reference": run (optional)}, a run {key: one value an epoch} over CURVE_KEYS;
  with BEFORE_TRAINING {"test_loss", "test_acc"} before the first epoch (optional);
- BOUNDARY: {"axis", "prob", "points", "labels"}, a trained network's P(class 1) on the course grid;
- GRADIENT: {"name", "expected", "received"}, two matrices of the same shape.
"""
CURVES, BEFORE_TRAINING, BOUNDARY, GRADIENT = "curves", "before_training", "boundary", "gradient"
CURVE_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")
