"""Load a submission's definitions, never its top-level work (contract, "Submission layout").

Runs inside the worker. Each top-level statement is looked at on its own:
imports, `def`, `class` and plain assignments run; loops, bare calls, `__main__`
blocks, shell lines and magics do not, and neither does an assignment whose value
calls something the submission itself defines (`params = init_params(...)`). A
statement that raises or outlives its time budget is skipped and named; the rest
of the file still loads.
"""
from __future__ import annotations

import ast
import os
import signal
from dataclasses import dataclass, field

# A notebook's `%run 'utils-data.py'` of a course helper imports our version of it.
COURSE_HELPERS = {"utils.py": "utils", "utils-data.py": "utils_data",
                  "utils_data.py": "utils_data", "tme5.py": "tme5"}


class StatementTimeout(BaseException):
    """Raised by the alarm inside a statement that runs past its budget."""


@dataclass
class Chunk:
    origin: str  # "tp1_manual.py" or "1_ab_Intro_to_NNs.ipynb, cell 7"
    code: str


@dataclass
class Loaded:
    namespace: dict
    skipped: list[dict] = field(default_factory=list)  # {"where", "error"}


def where(origin: str, line: int) -> str:
    return f"{origin}, line {line}"


def _defined_names(trees: list[ast.Module]) -> set[str]:
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


def _calls(node: ast.AST, names: set[str]) -> bool:
    """Whether `node` calls one of `names` or IPython (`x = !ls`)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
            if sub.func.id in names or sub.func.id == "get_ipython":
                return True
    return False


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def _helper_run(node: ast.stmt) -> str | None:
    """The course helper that `%run 'utils.py'` (as IPython writes it) names, if any."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "run_line_magic"
            and len(call.args) == 2 and all(isinstance(a, ast.Constant) for a in call.args)
            and call.args[0].value == "run"):
        return None
    target = str(call.args[1].value).strip().strip("'\"")
    return COURSE_HELPERS.get(os.path.basename(target))


def runnable(node: ast.stmt, own: set[str]) -> bool:
    """Whether a statement is a definition (safe to run at load time)."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef, ast.Pass, ast.Global, ast.Nonlocal)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return node.value is not None and not _calls(node.value, own)
    if isinstance(node, ast.If):
        return not _is_main_guard(node) and all(runnable(n, own) for n in node.body + node.orelse)
    if isinstance(node, ast.Try):  # `try: import torchvision except ImportError: ...`
        blocks = node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        return all(runnable(n, own) for n in blocks)
    return False


def _assigned(node: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _run(code, namespace: dict, budget: float) -> None:
    def alarm(signum, frame):
        raise StatementTimeout
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        exec(code, namespace)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load(chunks: list[Chunk], module_name: str, budget: float = 5.0) -> Loaded:
    """Run the definitions of `chunks` in order, in one fresh namespace."""
    namespace = {"__name__": module_name, "__builtins__": __builtins__}
    loaded = Loaded(namespace)
    trees = []
    for chunk in chunks:
        try:
            trees.append((chunk, ast.parse(chunk.code, filename=chunk.origin)))
        except (SyntaxError, ValueError) as e:
            line = getattr(e, "lineno", None) or 1
            loaded.skipped.append({"where": where(chunk.origin, line),
                                   "error": f"does not parse: {type(e).__name__}: {getattr(e, 'msg', e)}"})
    own = _defined_names([tree for _, tree in trees])
    not_run: set[str] = set()  # names that top-level work would have made
    for chunk, tree in trees:
        for node in tree.body:
            helper = _helper_run(node)
            if helper:
                node = ast.parse(f"from {helper} import *").body[0]
                ast.copy_location(node, tree.body[0])
            elif not runnable(node, own):
                not_run |= _assigned(node)
                continue
            code = compile(ast.fix_missing_locations(ast.Module([node], [])), chunk.origin, "exec")
            try:
                _run(code, namespace, budget)
            except StatementTimeout:
                loaded.skipped.append({"where": where(chunk.origin, node.lineno),
                                       "error": f"ran past its {budget:g} s budget at load time"})
            except Exception as e:  # noqa: BLE001 - any student failure skips that statement
                if isinstance(e, NameError) and getattr(e, "name", None) in not_run:
                    not_run |= _assigned(node)  # depends on top-level work that is not run
                    continue
                loaded.skipped.append({"where": where(chunk.origin, node.lineno),
                                       "error": f"{type(e).__name__}: {e}"})
    _provide_course_globals(namespace)
    return loaded


def _provide_course_globals(namespace: dict) -> None:
    """Globals the course's `epoch` uses but its `main` creates (contract)."""
    namespace.setdefault("PRINT_INTERVAL", 50)
    if "loss_plot" not in namespace:
        from utils import TrainLossPlot  # the grader's course helper, headless
        namespace["loss_plot"] = TrainLossPlot()
