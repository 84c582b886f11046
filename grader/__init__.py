"""rdfia-grader: the autograder of the RDFIA practicals TP 1-ab and TP 1-cd."""


def edition() -> str:
    """'instructor', or 'student' for the edition `grade release` builds (`grader.expected.edition`)."""
    from grader.expected import edition as of_this_install
    return of_this_install()
