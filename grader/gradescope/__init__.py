"""`grade gradescope OUT.zip`: a Gradescope autograder for the lab.

build       the zip: setup.sh, run_autograder, config.json, the grader's wheel
autograder  what run_autograder runs in Gradescope's container, for each submission
"""
