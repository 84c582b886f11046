"""Load a submission's definitions, never its top-level work (contract, "Submission layout").

Runs inside the worker. Each top-level statement is looked at on its own:
imports, `def`, `class` and plain assignments run; loops, bare calls, `__main__`
blocks, shell lines and magics do not, and neither does an assignment whose value
calls something the submission itself defines (`params = init_params(...)`). A
statement that raises or outlives its time budget is skipped and named; the rest
of the file still loads. Which statements run is `grader.worker.syntax`'s policy; how one
runs under its budget, `grader.worker.statement`'s.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.util
import keyword
import linecache
import os
import sys
import types
from dataclasses import dataclass, field

from grader.worker.statement import StatementTimeout, run_statement, trial
from grader.worker.syntax import (
    Chunk,
    assigned,
    computes,
    deferrable,
    defined_names,
    own_class_name,
    runnable,
    stub_raise,
    targets,
    where,
)

# Each name of a course helper -> its module in `course/`, as the lab declares them
# (`use_course`): `import tme5` and a notebook's `%run 'utils-data.py'` find our version.
COURSE_HELPERS: dict[str, str] = {}


@dataclass
class Deferred:
    """An assignment that is top-level work (`result = main(128, 0.1)`), run when asked for."""

    code: object
    where: str
    computes: bool
    state: str = "waiting"  # "running" (its own name is not defined yet), then "done"
    error: BaseException | None = None


class Namespace(dict):
    """A part's names, as the notebook or module would have made them run top to bottom.

    `classes` holds every version of every class, in definition order. Looking up a
    deferred assignment's name (from a check, or from code that needs it) runs that
    assignment once, under the statement budget; never while loading.
    """

    def __init__(self, budget: float):
        super().__init__()
        self.budget, self.lazy, self.depth = budget, False, 0
        self.classes: list[tuple[str, type]] = []
        self.deferred: dict[str, Deferred] = {}

    def names(self) -> list[str]:
        return sorted({k for k in self if not k.startswith("__")} | set(self.deferred))

    def versions(self, name: str) -> list[type]:
        return [cls for n, cls in self.classes if n == name]

    def __contains__(self, name) -> bool:
        return super().__contains__(name) or (self.lazy and name in self.deferred)

    def __missing__(self, name):
        deferred = self.deferred.get(name) if self.lazy else None
        if deferred is None or deferred.state == "running":
            raise KeyError(name)
        if deferred.state == "waiting":
            deferred.state = "running"
            deferred.error = self._compute(deferred)
            deferred.state = "done"
        if deferred.error is not None:
            raise deferred.error
        return super().__getitem__(name)

    def _compute(self, deferred: Deferred) -> BaseException | None:
        self.depth += 1
        try:
            if self.depth > 1:  # needed by another deferred assignment: under that one's budget
                exec(deferred.code, self)
                return None
            failure = trial(deferred.code, self, self.budget) if deferred.computes else None
            if failure:
                return RuntimeError(
                    f"{deferred.where} {failure.replace('at load time', 'when asked for')}"
                )
            run_statement(deferred.code, self, self.budget)
        except StatementTimeout:
            return TimeoutError(f"{deferred.where} ran past its {self.budget:g} s budget")
        except (Exception, SystemExit) as e:  # noqa: BLE001 - the student's own failure, raised where the name is used
            return e
        finally:
            self.depth -= 1
        return None


@dataclass
class Loaded:
    namespace: dict
    skipped: list[dict] = field(default_factory=list)  # {"where", "error"}
    stubs: dict = field(
        default_factory=dict
    )  # code object -> where it raises, of each `stub_raise` def run

    def unimplemented(self) -> dict[str, str]:
        """Each function the part holds whose body only raises NotImplementedError (a
        template's `TODO`) -> where it raises: calling it can do nothing else."""
        if "NotImplementedError" in self.namespace:  # not the builtin: the call would tell
            return {}
        return {
            name: self.stubs[value.__code__]
            for name, value in dict.items(self.namespace)
            if isinstance(value, types.FunctionType) and value.__code__ in self.stubs
        }

    def names(self) -> list[str]:
        """What the part defines, deferred assignments included."""
        if isinstance(self.namespace, Namespace):
            return self.namespace.names()
        return sorted(k for k in self.namespace if not k.startswith("__"))


def _helper_run(node: ast.stmt) -> str | None:
    """The module that `%run 'utils.py'` (as IPython writes it) names, if any: a course
    helper, or a file of the student's beside the notebook (`%run tme6_utils.py`), whose
    definitions it brings as `from ... import *` does."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    if not (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_line_magic"
        and len(call.args) == 2
        and all(isinstance(a, ast.Constant) for a in call.args)
        and call.args[0].value == "run"
    ):
        return None
    target = str(call.args[1].value).strip().strip("'\"")
    name, extension = os.path.splitext(os.path.basename(target))
    if extension != ".py":
        return None
    if name in COURSE_HELPERS:
        return COURSE_HELPERS[name]
    own = name.isidentifier() and not keyword.iskeyword(name) and os.path.isfile(f"{name}.py")
    return name if own else None


class _StudentModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`from tp1_manual import forward` in another student file, or of a student's own
    helper module, loads that file's definitions too, not its top-level training."""

    def __init__(self, budget: float):
        self.budget = budget

    def find_spec(self, fullname, path, target=None):
        file = os.path.join(os.getcwd(), f"{fullname}.py")  # the worker's copy of the files
        if path is not None or fullname in COURSE_HELPERS or not os.path.isfile(file):
            return None  # a package's module, the grader's course helper, or no such student file
        return importlib.util.spec_from_file_location(fullname, file, loader=self)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        with open(module.__file__, "rb") as f:
            code = f.read().decode("utf-8", errors="replace")
        load(
            [Chunk(os.path.basename(module.__file__), code)],
            module.__name__,
            self.budget,
            module.__dict__,
        )


class _CourseAliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`import tme5`: a course helper under another of its names holds the same names."""

    def find_spec(self, fullname, path, target=None):
        if path is None and COURSE_HELPERS.get(fullname, fullname) != fullname:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        helper = importlib.import_module(COURSE_HELPERS[module.__name__])
        module.__dict__.update({k: v for k, v in vars(helper).items() if not k.startswith("_")})


def use_course(helpers: dict[str, str]) -> None:
    """Serve the course helpers under the names the lab gives them."""
    COURSE_HELPERS.update(helpers)
    if not any(isinstance(f, _CourseAliases) for f in sys.meta_path):
        sys.meta_path.insert(0, _CourseAliases())


def _import_student_files(budget: float) -> None:
    if not any(isinstance(f, _StudentModules) for f in sys.meta_path):
        sys.meta_path.insert(0, _StudentModules(budget))


def load(
    chunks: list[Chunk],
    module_name: str,
    budget: float = 5.0,
    namespace: dict | None = None,
    provided: dict[str, str] | None = None,
) -> Loaded:
    """Run the definitions of `chunks` in order, in one fresh `Namespace` (or `namespace`,
    a module's, where deferred assignments are not run and only the last class is kept);
    then give it each global of `provided` (name -> the course helper that defines it) it
    does not define."""
    _import_student_files(budget)
    namespace = Namespace(budget) if namespace is None else namespace
    lazy = isinstance(namespace, Namespace)
    namespace.update({"__name__": module_name, "__builtins__": __builtins__})
    if len(chunks) == 1 and chunks[0].origin.endswith(
        ".py"
    ):  # a module, copied into the worker's home
        namespace.setdefault("__file__", os.path.abspath(chunks[0].origin))
    loaded = Loaded(namespace)
    trees = []
    for chunk in chunks:
        # A traceback shows the line itself: a notebook cell is no file that linecache could read.
        linecache.cache[chunk.origin] = (
            len(chunk.code),
            None,
            chunk.code.splitlines(True),
            chunk.origin,
        )
        try:
            trees.append((chunk, ast.parse(chunk.code, filename=chunk.origin)))
        except (SyntaxError, ValueError) as e:
            line = getattr(e, "lineno", None) or 1
            loaded.skipped.append(
                {
                    "where": where(chunk.origin, line),
                    "error": f"does not parse: {type(e).__name__}: {getattr(e, 'msg', e)}",
                }
            )
    own = defined_names([tree for _, tree in trees])
    not_run: set[str] = set()  # names that top-level work would have made
    for chunk, tree in trees:
        for node in tree.body:
            helper = _helper_run(node)
            if helper:  # at the line of the `%run`, so that a failure points there
                node = ast.copy_location(ast.parse(f"from {helper} import *").body[0], node)
            elif not runnable(node, own):
                if lazy and deferrable(node):
                    _defer(namespace, node, chunk.origin)
                else:
                    not_run |= assigned(node)
                continue
            elif isinstance(node, ast.ClassDef):
                node = own_class_name(node)
            code = compile(ast.fix_missing_locations(ast.Module([node], [])), chunk.origin, "exec")
            failure = trial(code, namespace, budget) if computes(node) else None
            if failure:
                loaded.skipped.append({"where": where(chunk.origin, node.lineno), "error": failure})
                continue
            try:
                run_statement(code, namespace, budget)
            except StatementTimeout:
                loaded.skipped.append(
                    {
                        "where": where(chunk.origin, node.lineno),
                        "error": f"ran past its {budget:g} s budget at load time",
                    }
                )
            except (Exception, SystemExit) as e:  # noqa: BLE001 - any student failure skips that statement
                missing = getattr(e, "name", None) if isinstance(e, NameError) else None
                if lazy and deferrable(node) and missing in namespace.deferred:
                    _defer(namespace, node, chunk.origin)  # needs a deferred value: deferred too
                elif missing in not_run or (lazy and missing in namespace.deferred):
                    not_run |= assigned(node)  # depends on top-level work that is not run
                else:
                    loaded.skipped.append(
                        {
                            "where": where(chunk.origin, node.lineno),
                            "error": f"{type(e).__name__}: {e}",
                        }
                    )
                continue
            raises = stub_raise(node)
            if raises and isinstance(dict.get(namespace, node.name), types.FunctionType):
                loaded.stubs[namespace[node.name].__code__] = (
                    f"{where(chunk.origin, raises.lineno)}, in {node.name}"
                )
            if lazy:
                _ran(namespace, node)
    for name, helper in (provided or {}).items():
        if (
            name not in namespace
        ):  # the contract: the course's `main` creates them, its `epoch` uses them
            namespace[name] = getattr(importlib.import_module(helper), name)
    if lazy:
        namespace.lazy = True
    return loaded


def _defer(namespace: Namespace, node: ast.stmt, origin: str) -> None:
    code = compile(ast.fix_missing_locations(ast.Module([node], [])), origin, "exec")
    deferred = Deferred(
        code, f"`{ast.unparse(node)[:80]}` ({where(origin, node.lineno)})", computes(node)
    )
    for name in targets(node):  # run top to bottom, this assignment's value is the last
        dict.pop(namespace, name, None)
        namespace.deferred[name] = deferred


def _ran(namespace: Namespace, node: ast.stmt) -> None:
    """After a statement ran at load: its names are no longer deferred; a class joins its versions."""
    defines = isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    for name in {node.name} if defines else assigned(node):
        namespace.deferred.pop(name, None)
    if isinstance(node, ast.ClassDef) and isinstance(dict.get(namespace, node.name), type):
        namespace.classes.append((node.name, namespace[node.name]))
