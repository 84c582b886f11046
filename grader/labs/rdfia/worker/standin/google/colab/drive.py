"""`drive.mount(...)`: the grader has no Google Drive, so nothing is mounted."""


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    print(f"Drive not mounted at {mountpoint}: the grader has no Google Drive")


def flush_and_unmount(timeout_ms=24 * 60 * 60 * 1000):
    pass
