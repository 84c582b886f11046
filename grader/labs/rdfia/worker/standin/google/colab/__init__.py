"""A stand-in for Colab's `google.colab` where it is not installed (everywhere but Colab).

What the course's notebooks import from it: `drive`, `files` and `output`. The grader has
no Google Drive, no browser and no user to upload a file: each call does what Colab would
do with nothing to act on, and says so, so that code calling it runs on.
"""

from google.colab import drive, files, output  # noqa: F401
