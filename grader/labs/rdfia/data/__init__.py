"""Data the grader generates or reads: the Circles toy problem and CIFAR-10."""
