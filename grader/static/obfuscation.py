"""Code that hides what it reaches, read from its syntax tree (nothing runs).

A name built at run time (`getattr(torch, 'auto' + 'grad')`, `__import__(name)`), code
run from a string (`exec`, `eval`, `compile`), a decoder that can feed them (base64,
codecs, `bytes.fromhex`, zlib...) or a string naming `ctypes` or `importlib` says nothing
of what it reaches: the cheat report flags each, and `backward` (which must not use
autograd) may not use them at all. The course's own code does none of this (tested).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TypeGuard

# Callables that reach an attribute by a name given as their argument at this position.
_BY_NAME = {
    "getattr": 1,
    "setattr": 1,
    "delattr": 1,
    "hasattr": 1,
    "builtins.getattr": 1,
    "object.__getattribute__": 1,
    "type.__getattribute__": 1,
    "operator.attrgetter": 0,
    "operator.methodcaller": 0,
    "attrgetter": 0,
    "methodcaller": 0,
    "inspect.getattr_static": 1,
}
_IMPORTERS = {
    "__import__",
    "builtins.__import__",
    "importlib.import_module",
    "importlib.__import__",
    "import_module",
    "importlib.util.find_spec",
    "pkgutil.resolve_name",
}
_CODE = {
    "exec",
    "eval",
    "compile",
    "builtins.exec",
    "builtins.eval",
    "builtins.compile",
    "types.FunctionType",
    "types.CodeType",
    "marshal.loads",
    "pickle.loads",
    "dill.loads",
}
_DECODERS = (
    "base64.",
    "binascii.",
    "codecs.decode",
    "codecs.encode",
    "codecs.getdecoder",
    "zlib.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "gzip.decompress",
    "bytes.fromhex",
    "bytearray.fromhex",
    "urllib.parse.unquote",
    "html.unescape",
)
_CODECS = {
    "rot13",
    "rot_13",
    "hex",
    "hex_codec",
    "base64",
    "base64_codec",
    "zlib",
    "zlib_codec",
    "bz2",
    "uu",
    "unicode_escape",
    "raw_unicode_escape",
}
# Modules whose mere name in a string shows an indirect way to them.
_HIDDEN_MODULES = {"ctypes", "_ctypes", "importlib", "builtins", "__builtin__", "marshal"}
_HIDDEN_NAMES = {
    "import_module",
    "__import__",
    "__builtins__",
    "__globals__",
    "__subclasses__",
    "__code__",
}
_DUNDERS = {
    "__builtins__",
    "__globals__",
    "__subclasses__",
    "__code__",
    "__getattribute__",
    "__dict__",
    "__closure__",
}


def _literal(node: ast.AST | None) -> TypeGuard[ast.Constant]:
    return isinstance(node, ast.Constant)


def _arg(call: ast.Call, position: int) -> ast.AST | None:
    return call.args[position] if len(call.args) > position else None


def hidden(node: ast.AST, resolve: Callable[[ast.AST], str]) -> str | None:
    """What `node` hides, in a few words, or None. `resolve(expr)` is the dotted name an
    expression stands for once the module's import aliases are applied ('' if none)."""
    if isinstance(node, ast.Call):
        name = resolve(node.func)
        if name in _BY_NAME and node.args and not _literal(_arg(node, _BY_NAME[name])):
            return f"reaches an attribute by a name built at run time ({name})"
        if name in _IMPORTERS and not _literal(_arg(node, 0)):
            return f"imports a module named at run time ({name})"
        if name in _CODE:
            return f"runs code built at run time ({name})"
        if name.startswith(_DECODERS):
            return f"decodes hidden text ({name})"
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        codecs = [str(a.value).lower().replace("-", "_") for a in node.args if _literal(a)]
        if method in ("decode", "encode") and any(c in _CODECS for c in codecs):
            return f"decodes hidden text (.{method} with a codec)"
    elif isinstance(node, ast.Attribute) and node.attr in _DUNDERS:
        return f"reaches interpreter internals (.{node.attr})"
    elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__import__"):
        return f"reaches {node.id}"
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value.strip()
        dotted = text.replace(".", "").isidentifier()
        if text in _HIDDEN_MODULES or text.split(".")[0] in _HIDDEN_MODULES and dotted:
            return f"names the module {text} in a string"
        if text in _HIDDEN_NAMES:
            return f"names {text} in a string"
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        modules = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        if any(m.split(".")[0] in ("builtins", "marshal") for m in modules):
            return f"imports {modules[0].split('.')[0]}"
    return None
