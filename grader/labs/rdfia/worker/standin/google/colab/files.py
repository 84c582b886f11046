"""`files.upload()` and `files.download(...)`: the grader has no browser to move files."""


def upload(target_dir=""):
    """No file chosen: Colab returns the files uploaded, here none."""
    return {}


def download(filename):
    pass
