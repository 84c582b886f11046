"""`python -m grader.written.pdftext < report.pdf`: its text on stdout (pypdf, no OCR).
Run by `grader.written.reading` in a process of its own, bounded in time and memory."""

from __future__ import annotations

import io
import sys

MAX_PAGES = 200


def main() -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(sys.stdin.buffer.read()))
    if reader.is_encrypted:
        reader.decrypt("")
    text = "\n".join(page.extract_text() or "" for page in reader.pages[:MAX_PAGES])
    sys.stdout.buffer.write(text.encode("utf-8", "replace"))


if __name__ == "__main__":
    main()
