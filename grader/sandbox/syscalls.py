"""The worker's syscall filter: seccomp, through libseccomp (the `pyseccomp` binding).

Installed last in the worker's setup, after the namespaces, the root, the user switch and
Landlock, before student code loads (a zygote's fork installs it after the fork; a fresh
worker keeps it across its exec). Everything is allowed but what student code never
needs, which fails with EPERM (`clone3` with ENOSYS, so that the C library falls back to
`clone`, whose flags the filter can read). Syscalls of another architecture (i386 through
`int 0x80`) kill the process: libseccomp's default for a foreign architecture.
"""

from __future__ import annotations

import errno
import platform
import socket

try:
    import pyseccomp as seccomp
except (ImportError, RuntimeError):  # RuntimeError: no libseccomp.so on this machine
    seccomp = None

DENIED = (
    "add_key",
    "request_key",
    "keyctl",  # kernel keyrings
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "unshare",
    "setns",  # new namespaces
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "kcmp",
    "pidfd_getfd",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "open_by_handle_at",
    "name_to_handle_at",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "syslog",
)
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (linux/sched.h); NEWTIME
# exists for unshare and clone3 only, both denied
NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
)
CLONE_FLAGS_ARG = 1 if platform.machine().startswith("s390") else 0  # s390 swaps clone's first two


def available() -> bool:
    return seccomp is not None


def install() -> None:
    """Load the filter into this process (inherited by every child, kept across exec)."""
    if seccomp is None:
        raise OSError("no libseccomp binding here")
    deny = seccomp.ERRNO(errno.EPERM)
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED:
        try:
            f.add_rule(deny, name)
        except (OSError, ValueError):
            pass  # a syscall this libseccomp does not know on this architecture
    for flag in NAMESPACE_FLAGS:
        f.add_rule(deny, "clone", seccomp.Arg(CLONE_FLAGS_ARG, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for name in ("socket", "socketpair"):  # the worker's channels are pipes and Unix sockets
        f.add_rule(deny, name, seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    f.load()
