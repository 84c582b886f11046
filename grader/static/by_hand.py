"""Autograd in a function that must compute its gradients by hand (`tp1_manual`'s
`backward`), read from the source on the trusted side: the worker is never asked."""

from __future__ import annotations

import ast

from grader.static.obfuscation import hidden
from grader.static.source import Flag, import_aliases, parse, resolve

_AUTOGRAD_CALLS = (
    "torch.autograd",
    "torch.func",
    "functorch",
    "torch._C",
    "torch.enable_grad",
    "torch.set_grad_enabled",
    "torch.inference_mode",
    "torch.is_grad_enabled",
)
_AUTOGRAD_ATTRS = {
    "backward": "calls .backward()",
    "grad": "reads .grad",
    "requires_grad_": "sets requires_grad",
    "retain_grad": "calls .retain_grad()",
    "autograd": "reaches autograd (.autograd)",
    "grad_fn": "reads .grad_fn",
    "enable_grad": "turns autograd on (.enable_grad)",
    "set_grad_enabled": "turns autograd on (.set_grad_enabled)",
    "inference_mode": "turns inference mode off (.inference_mode)",
    "_C": "reaches torch._C",
}


def _false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None, 0)


def _uses_in(body: ast.AST, aliases: dict[str, str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(body):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute):
            name = resolve(node, aliases)
            if name.startswith(_AUTOGRAD_CALLS):
                found.append((line, f"uses {name}"))
            elif node.attr in _AUTOGRAD_ATTRS:
                found.append((line, _AUTOGRAD_ATTRS[node.attr]))
        elif isinstance(node, ast.Name) and aliases.get(node.id, "").startswith(_AUTOGRAD_CALLS):
            found.append((line, f"uses {aliases[node.id]}"))
        elif (
            isinstance(node, ast.keyword) and node.arg == "requires_grad" and not _false(node.value)
        ):
            found.append((getattr(node.value, "lineno", 0), "sets requires_grad"))
        elif (
            isinstance(node, ast.Assign)
            and not _false(node.value)
            and any(
                isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in node.targets
            )
        ):
            found.append((line, "sets requires_grad"))
        elif (
            isinstance(node, ast.Constant) and node.value in _AUTOGRAD_ATTRS
        ):  # getattr(L, 'backward')
            found.append((line, f"names autograd in a string ({node.value!r})"))
        if what := hidden(node, lambda n: resolve(n, aliases)):  # what it reaches cannot be read
            found.append((line, what))
    return found


def autograd_uses(chunks, name: str) -> list[Flag]:
    """Where `name` (its last definition, as the notebook runs) or a function of the part that
    it calls, directly or not, uses autograd. Empty when `name` computes by hand."""
    functions: dict[str, tuple[str, ast.AST]] = {}
    aliases: dict[str, str] = {}
    for origin, code in chunks:
        tree = parse(code)
        if tree is None:
            continue
        aliases |= import_aliases(tree)
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
            flags.setdefault(
                f"{origin}, line {line}", Flag(f"{origin}, line {line}", what)
            )  # one a line
        todo += [n.id for n in ast.walk(body) if isinstance(n, ast.Name) and n.id in functions]
    return list(flags.values())
