"""The cheat report: code that reaches for the grader or the machine (imports of `grader`,
`gc.get_objects`, frames and `sys.modules`, `ctypes`, `/proc` and `.git`, sockets, shell and
subprocesses, and code that hides what it reaches), each flag with its file (and cell) and
line. It is for the instructor and costs no points. The worker is never asked: student code
runs beside its probes and could answer anything.
"""

from __future__ import annotations

import ast

from grader.static.obfuscation import hidden
from grader.static.source import Flag, import_aliases, parse, resolve

_MODULES = {
    "grader": "imports the grader",
    "ctypes": "imports ctypes (raw memory)",
    "socket": "opens sockets",
    "subprocess": "runs subprocesses",
    "pty": "runs subprocesses",
}
_CALLS = {
    "gc.get_objects": "walks every live object (gc.get_objects)",
    "gc.get_referrers": "walks live objects (gc.get_referrers)",
    "sys._getframe": "reads the caller's frames",
    "inspect.currentframe": "reads the caller's frames",
    "inspect.stack": "reads the caller's frames",
    "os.system": "runs a shell command (os.system)",
    "inspect.getmodule": "reaches the module of an object it was given (inspect.getmodule)",
    "os.popen": "runs a shell command (os.popen)",
}
_FRAME_ATTRS = {"f_back", "f_globals", "f_locals", "tb_frame", "gi_frame", "f_builtins"}
_OS_EXEC = ("exec", "spawn", "posix_spawn")


def _flags_of(tree: ast.AST) -> list[tuple[int, str]]:
    names, found = import_aliases(tree), []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if what := hidden(node, lambda n: resolve(n, names)):
            found.append((line, what))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for module in modules:
                if what := _MODULES.get(module.split(".")[0]):
                    found.append((line, what))
        elif isinstance(node, ast.Call):
            name = resolve(node.func, names)
            if name in _CALLS:
                found.append((line, _CALLS[name]))
            elif name.startswith("os.") and name[3:].startswith(_OS_EXEC):
                found.append((line, f"runs a program ({name})"))
            elif (
                name in ("__import__", "importlib.import_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                if what := _MODULES.get(str(node.args[0].value).split(".")[0]):
                    found.append((line, what))
        elif isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRS:
            found.append((line, f"reads interpreter frames (.{node.attr})"))
        elif isinstance(node, (ast.Attribute, ast.Name)) and resolve(node, names) == "sys.modules":
            found.append((line, "touches sys.modules"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if text.startswith("/proc") or "/proc/" in text:
                found.append((line, "reads under /proc"))
            elif ".git" in text.split("/"):
                found.append((line, "reads under .git"))
    return found


def cheat_report(submission) -> list[Flag]:
    """The cheat report of a whole submission: every part's code, and its other .py files."""
    chunks = [(c.origin, c.code) for part in submission.parts.values() for c in part]
    origins = {origin for origin, _ in chunks}
    chunks += [
        (path, data.decode(errors="replace"))
        for path, data in sorted(submission.files.items())
        if path.endswith(".py") and path.rsplit("/", 1)[-1] not in origins
    ]
    return reaches(chunks)


def reaches(chunks) -> list[Flag]:
    """The cheat report of these (origin, code) chunks, in source order."""
    flags = []
    for origin, code in chunks:
        tree = parse(code)
        if tree is not None:
            for line, what in sorted(set(_flags_of(tree))):
                flags.append(Flag(f"{origin}, line {line}", what))
    return list(dict.fromkeys(flags))
