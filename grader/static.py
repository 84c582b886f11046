"""What a submission's source shows, read on the trusted side with `ast` (nothing runs).

Both take the code as (origin, code) pairs: origin "tp1_manual.py" or "nb.ipynb, cell 4".
- `reaches(chunks)` (`cheat_report(submission)`): the cheat report, code that reaches for the grader or the machine
  (imports of `grader`, `gc.get_objects`, frames and `sys.modules`, `ctypes`, `/proc` and
  `.git`, sockets, shell and subprocesses), each flag with its file (and cell) and line.
  It is for the instructor and costs no points.
- `autograd_uses(chunks, name)`: where the function `name`, or a function of the part it
  calls, computes gradients with autograd: `tp1_manual`'s backward must not.
- `implemented(submission)`: how many of its functions do more than raise
  NotImplementedError, as every function of the template does.
- `imported(submission, modules)`: those of `modules` that its code imports.
The worker is never asked: student code runs beside its probes and could answer anything.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.obfuscation import hidden
from grader.worker.loader import stub_raise


@dataclass(frozen=True)
class Flag:
    where: str   # "tp1_manual.py, line 3" or "tp1.ipynb, cell 4, line 2"
    what: str    # "imports ctypes"

    def as_dict(self) -> dict:
        return {"where": self.where, "what": self.what}


_MODULES = {"grader": "imports the grader", "ctypes": "imports ctypes (raw memory)", "socket": "opens sockets",
            "subprocess": "runs subprocesses", "pty": "runs subprocesses"}
_CALLS = {"gc.get_objects": "walks every live object (gc.get_objects)",
          "gc.get_referrers": "walks live objects (gc.get_referrers)",
          "sys._getframe": "reads the caller's frames", "inspect.currentframe": "reads the caller's frames",
          "inspect.stack": "reads the caller's frames", "os.system": "runs a shell command (os.system)",
          "inspect.getmodule": "reaches the module of an object it was given (inspect.getmodule)",
          "os.popen": "runs a shell command (os.popen)"}
_FRAME_ATTRS = {"f_back", "f_globals", "f_locals", "tb_frame", "gi_frame", "f_builtins"}
_OS_EXEC = ("exec", "spawn", "posix_spawn")


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _dotted(node: ast.AST) -> str:
    """`a.b.c` for an attribute chain on a name, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return ""


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> module path, from the imports (`import numpy as np`, `from os import system`)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _resolve(node: ast.AST, aliases: dict[str, str]) -> str:
    dotted = _dotted(node)
    head, _, rest = dotted.partition(".")
    return ".".join(p for p in (aliases.get(head, head), rest) if p) if dotted else ""


def _flags_of(tree: ast.AST) -> list[tuple[int, str]]:
    aliases, found = _aliases(tree), []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if what := hidden(node, lambda n: _resolve(n, aliases)):
            found.append((line, what))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if what := _MODULES.get(module.split(".")[0]):
                    found.append((line, what))
        elif isinstance(node, ast.Call):
            name = _resolve(node.func, aliases)
            if name in _CALLS:
                found.append((line, _CALLS[name]))
            elif name.startswith("os.") and name[3:].startswith(_OS_EXEC):
                found.append((line, f"runs a program ({name})"))
            elif name in ("__import__", "importlib.import_module") and node.args and isinstance(node.args[0], ast.Constant):
                if what := _MODULES.get(str(node.args[0].value).split(".")[0]):
                    found.append((line, what))
        elif isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRS:
            found.append((line, f"reads interpreter frames (.{node.attr})"))
        elif isinstance(node, (ast.Attribute, ast.Name)) and _resolve(node, aliases) == "sys.modules":
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
    chunks += [(path, data.decode(errors="replace")) for path, data in sorted(submission.files.items())
               if path.endswith(".py") and path.rsplit("/", 1)[-1] not in origins]
    return reaches(chunks)


def reaches(chunks) -> list[Flag]:
    """The cheat report of these (origin, code) chunks, in source order."""
    flags = []
    for origin, code in chunks:
        tree = _parse(code)
        if tree is not None:
            for line, what in sorted(set(_flags_of(tree))):
                flags.append(Flag(f"{origin}, line {line}", what))
    return list(dict.fromkeys(flags))


# -- autograd in a function that must compute its gradients by hand --------------------

_AUTOGRAD_CALLS = ("torch.autograd", "torch.func", "functorch", "torch._C", "torch.enable_grad",
                   "torch.set_grad_enabled", "torch.inference_mode", "torch.is_grad_enabled")
_AUTOGRAD_ATTRS = {"backward": "calls .backward()", "grad": "reads .grad", "requires_grad_": "sets requires_grad",
                   "retain_grad": "calls .retain_grad()", "autograd": "reaches autograd (.autograd)",
                   "grad_fn": "reads .grad_fn", "enable_grad": "turns autograd on (.enable_grad)",
                   "set_grad_enabled": "turns autograd on (.set_grad_enabled)",
                   "inference_mode": "turns inference mode off (.inference_mode)", "_C": "reaches torch._C"}


def _false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None, 0)


def _uses_in(body: ast.AST, aliases: dict[str, str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(body):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute):
            name = _resolve(node, aliases)
            if name.startswith(_AUTOGRAD_CALLS):
                found.append((line, f"uses {name}"))
            elif node.attr in _AUTOGRAD_ATTRS:
                found.append((line, _AUTOGRAD_ATTRS[node.attr]))
        elif isinstance(node, ast.Name) and aliases.get(node.id, "").startswith(_AUTOGRAD_CALLS):
            found.append((line, f"uses {aliases[node.id]}"))
        elif isinstance(node, ast.keyword) and node.arg == "requires_grad" and not _false(node.value):
            found.append((getattr(node.value, "lineno", 0), "sets requires_grad"))
        elif isinstance(node, ast.Assign) and not _false(node.value) and any(
                isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in node.targets):
            found.append((line, "sets requires_grad"))
        elif isinstance(node, ast.Constant) and node.value in _AUTOGRAD_ATTRS:  # getattr(L, 'backward')
            found.append((line, f"names autograd in a string ({node.value!r})"))
        if what := hidden(node, lambda n: _resolve(n, aliases)):  # what it reaches cannot be read
            found.append((line, what))
    return found


def autograd_uses(chunks, name: str) -> list[Flag]:
    """Where `name` (its last definition, as the notebook runs) or a function of the part that
    it calls, directly or not, uses autograd. Empty when `name` computes by hand."""
    functions: dict[str, tuple[str, ast.AST]] = {}
    aliases: dict[str, str] = {}
    for origin, code in chunks:
        tree = _parse(code)
        if tree is None:
            continue
        aliases |= _aliases(tree)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                functions[node.name] = (origin, node)
            elif isinstance(node, ast.Assign):  # `grad = torch.autograd.grad`, `step = helper`
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        functions[target.id] = (origin, node.value)
    flags: dict[str, Flag] = {}
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen or current not in functions:
            continue
        seen.add(current)
        origin, body = functions[current]
        for line, what in sorted(_uses_in(body, aliases)):
            flags.setdefault(f"{origin}, line {line}", Flag(f"{origin}, line {line}", what))  # one a line
        todo += [n.id for n in ast.walk(body) if isinstance(n, ast.Name) and n.id in functions]
    return list(flags.values())


def implemented(submission, parts=None) -> int:
    """How many top-level functions of the submission (of `parts` only, given them) do more
    than raise NotImplementedError."""
    return sum(isinstance(node, ast.FunctionDef) and not stub_raise(node)
               for part, chunks in submission.parts.items() if parts is None or part in parts for chunk in chunks
               for node in getattr(_parse(chunk.code), "body", ()))


def imported(submission, modules) -> tuple[str, ...]:
    """Those of `modules` whose package the submission's code imports somewhere."""
    roots = {alias.name.split(".")[0] if isinstance(node, ast.Import) else (node.module or "").split(".")[0]
             for chunks in submission.parts.values() for chunk in chunks
             for node in ast.walk(_parse(chunk.code) or ast.Module(body=[], type_ignores=[]))
             if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    return tuple(m for m in modules if m.split(".")[0] in roots)

