"""Load a submission's definitions, never its top-level work (contract, "Submission layout").

Runs inside the worker. Each top-level statement is looked at on its own:
imports, `def`, `class` and plain assignments run; loops, bare calls, `__main__`
blocks, shell lines and magics do not, and neither does an assignment whose value
calls something the submission itself defines (`params = init_params(...)`). A
statement that raises or outlives its time budget is skipped and named; the rest
of the file still loads.

A Python-level alarm cannot stop a loop in C that holds the GIL
(`x = sum(range(10**12))`, `2**10**10`), so a statement that computes something is
first tried in a forked child: one that does not finish in time there is skipped
without being run here.
"""
from __future__ import annotations

import ast
import faulthandler
import importlib.abc
import importlib.util
import keyword
import linecache
import os
import resource
import select
import signal
import sys
import types
from dataclasses import dataclass, field

# Each name of a course helper -> its module in `course/`, as the lab declares them
# (`use_course`): `import tme5` and a notebook's `%run 'utils-data.py'` find our version.
COURSE_HELPERS: dict[str, str] = {}

# What a statement must leave of the worker's address space for the checks (a CNN's training
# step takes ~150 MiB): one that leaves less uses up the memory limit and is skipped.
MEMORY_RESERVE = 1 << 30


class StatementTimeout(BaseException):
    """Raised by the alarm inside a statement that runs past its budget."""


@dataclass
class Chunk:
    origin: str  # "tp1_manual.py" or "1_ab_Intro_to_NNs.ipynb, cell 7"
    code: str


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
            failure = _trial(deferred.code, self, self.budget) if deferred.computes else None
            if failure:
                return RuntimeError(f"{deferred.where} {failure.replace('at load time', 'when asked for')}")
            _run(deferred.code, self, self.budget)
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
    stubs: dict = field(default_factory=dict)  # code object -> where it raises, of each `stub_raise` def run

    def unimplemented(self) -> dict[str, str]:
        """Each function the part holds whose body only raises NotImplementedError (a
        template's `TODO`) -> where it raises: calling it can do nothing else."""
        if "NotImplementedError" in self.namespace:  # not the builtin: the call would tell
            return {}
        return {name: self.stubs[value.__code__] for name, value in dict.items(self.namespace)
                if isinstance(value, types.FunctionType) and value.__code__ in self.stubs}

    def names(self) -> list[str]:
        """What the part defines, deferred assignments included."""
        if isinstance(self.namespace, Namespace):
            return self.namespace.names()
        return sorted(k for k in self.namespace if not k.startswith("__"))


def where(origin: str, line: int) -> str:
    return f"{origin}, line {line}"


def _defined_names(trees: list[ast.Module]) -> set[str]:
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


def _walk_run(node: ast.AST):
    """The nodes of `node` that run when it runs: not the bodies of lambdas."""
    if isinstance(node, ast.Lambda):
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _walk_run(child)


def _calls(node: ast.AST, names: set[str]) -> bool:
    """Whether `node` calls one of `names` or IPython (`x = !ls`)."""
    for sub in _walk_run(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
            if sub.func.id in names or sub.func.id == "get_ipython":
                return True
    return False


def _computes(node: ast.stmt) -> bool:
    """Whether a statement may compute for long (a call or an operator), so is tried first."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return any(isinstance(n, (ast.Call, ast.BinOp, ast.comprehension)) for n in _walk_run(node))


def _memory_left() -> int | None:
    """Bytes of the address-space limit still free, or None without a limit (or /proc)."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm") as f:
            return limit - int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _trial(code, namespace: dict, budget: float) -> str | None:
    """Run `code` in a forked child (which then vanishes): why it cannot run here, or None.

    The child's output goes nowhere, so the statement's prints are not doubled.
    """
    try:
        read, write = os.pipe()
        pid = os.fork()
    except OSError:  # no fork (process limit): rely on the alarm alone
        return None
    if pid == 0:
        try:
            faulthandler.disable()  # a crash is reported by its status, not a dump
            if "torch" in sys.modules:  # a forked OpenMP pool deadlocks; one thread never forks it
                sys.modules["torch"].set_num_threads(1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1), os.dup2(null, 2)
            sys.stdout = sys.stderr = open(os.devnull, "w")
            os.close(read)
            try:
                exec(code, namespace)
            except BaseException:  # noqa: BLE001 - an exception is reported by the real run
                pass
            left = _memory_left()
            os.write(write, b"m" if left is not None and left < MEMORY_RESERVE else b"x")
        finally:
            os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], budget)
        answer = os.read(read, 1) if ready else b""
    finally:
        os.close(read)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status = os.waitpid(pid, 0)
    if answer == b"x":
        return None
    if answer == b"m":
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        return (f"uses up the memory limit at load time: it leaves less than {MEMORY_RESERVE >> 20} MiB "
                f"of the worker's {limit >> 20} MiB for grading")
    if not ready:
        return f"ran past its {budget:g} s budget at load time"
    code = os.waitstatus_to_exitcode(status)  # a crash here would kill the worker on every reload
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    return f"stops the process at load time ({how})"


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__")


def _helper_run(node: ast.stmt) -> str | None:
    """The module that `%run 'utils.py'` (as IPython writes it) names, if any: a course
    helper, or a file of the student's beside the notebook (`%run tme6_utils.py`), whose
    definitions it brings as `from ... import *` does."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "run_line_magic"
            and len(call.args) == 2 and all(isinstance(a, ast.Constant) for a in call.args)
            and call.args[0].value == "run"):
        return None
    target = str(call.args[1].value).strip().strip("'\"")
    name, extension = os.path.splitext(os.path.basename(target))
    if extension != ".py":
        return None
    if name in COURSE_HELPERS:
        return COURSE_HELPERS[name]
    own = name.isidentifier() and not keyword.iskeyword(name) and os.path.isfile(f"{name}.py")
    return name if own else None


def _targets(node: ast.Assign | ast.AnnAssign) -> set[str]:
    """The names an assignment binds (not those of a comprehension in its value)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _deferrable(node: ast.stmt) -> bool:
    """An assignment to names, which can run later in the part's namespace (not `x = !ls`)."""
    return (isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and bool(_targets(node))
            and not _calls(node.value, set()))


class _OwnClassName(ast.NodeTransformer):
    """In the methods of class `name`, the class's own name becomes `__class__`: the version
    that this class statement makes, as when its cell ran, not one defined later."""

    def __init__(self, name: str):
        self.name = name

    def visit_ClassDef(self, node):
        return node  # a nested class: its `__class__` is its own

    def visit_FunctionDef(self, node):
        if self.name in _assigned(node) or self.name in {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}:
            return node  # a local of the same name
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Name("__class__", ast.Load()), node)
        return node


def _own_class_name(node: ast.ClassDef) -> ast.ClassDef:
    rewrite = _OwnClassName(node.name)
    node.body = [rewrite.visit(n) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) else n
                 for n in node.body]
    return node


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
        load([Chunk(os.path.basename(module.__file__), code)], module.__name__, self.budget, module.__dict__)


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


def load(chunks: list[Chunk], module_name: str, budget: float = 5.0, namespace: dict | None = None,
         provided: dict[str, str] | None = None) -> Loaded:
    """Run the definitions of `chunks` in order, in one fresh `Namespace` (or `namespace`,
    a module's, where deferred assignments are not run and only the last class is kept);
    then give it each global of `provided` (name -> the course helper that defines it) it
    does not define."""
    _import_student_files(budget)
    namespace = Namespace(budget) if namespace is None else namespace
    lazy = isinstance(namespace, Namespace)
    namespace.update({"__name__": module_name, "__builtins__": __builtins__})
    if len(chunks) == 1 and chunks[0].origin.endswith(".py"):  # a module, copied into the worker's home
        namespace.setdefault("__file__", os.path.abspath(chunks[0].origin))
    loaded = Loaded(namespace)
    trees = []
    for chunk in chunks:
        # A traceback shows the line itself: a notebook cell is no file that linecache could read.
        linecache.cache[chunk.origin] = (len(chunk.code), None, chunk.code.splitlines(True), chunk.origin)
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
            if helper:  # at the line of the `%run`, so that a failure points there
                node = ast.copy_location(ast.parse(f"from {helper} import *").body[0], node)
            elif not runnable(node, own):
                if lazy and _deferrable(node):
                    _defer(namespace, node, chunk.origin)
                else:
                    not_run |= _assigned(node)
                continue
            elif isinstance(node, ast.ClassDef):
                node = _own_class_name(node)
            code = compile(ast.fix_missing_locations(ast.Module([node], [])), chunk.origin, "exec")
            failure = _trial(code, namespace, budget) if _computes(node) else None
            if failure:
                loaded.skipped.append({"where": where(chunk.origin, node.lineno), "error": failure})
                continue
            try:
                _run(code, namespace, budget)
            except StatementTimeout:
                loaded.skipped.append({"where": where(chunk.origin, node.lineno),
                                       "error": f"ran past its {budget:g} s budget at load time"})
            except (Exception, SystemExit) as e:  # noqa: BLE001 - any student failure skips that statement
                missing = getattr(e, "name", None) if isinstance(e, NameError) else None
                if lazy and _deferrable(node) and missing in namespace.deferred:
                    _defer(namespace, node, chunk.origin)  # needs a deferred value: deferred too
                elif missing in not_run or (lazy and missing in namespace.deferred):
                    not_run |= _assigned(node)  # depends on top-level work that is not run
                else:
                    loaded.skipped.append({"where": where(chunk.origin, node.lineno),
                                           "error": f"{type(e).__name__}: {e}"})
                continue
            raises = stub_raise(node)
            if raises and isinstance(dict.get(namespace, node.name), types.FunctionType):
                loaded.stubs[namespace[node.name].__code__] = f"{where(chunk.origin, raises.lineno)}, in {node.name}"
            if lazy:
                _ran(namespace, node)
    for name, helper in (provided or {}).items():
        if name not in namespace:  # the contract: the course's `main` creates them, its `epoch` uses them
            namespace[name] = getattr(importlib.import_module(helper), name)
    if lazy:
        namespace.lazy = True
    return loaded


def stub_raise(node: ast.stmt) -> ast.Raise | None:
    """The `raise NotImplementedError(...)` that is all of an undecorated function's body
    (after its docstring), with constant arguments only: nothing else can run in a call."""
    if not isinstance(node, ast.FunctionDef) or node.decorator_list:
        return None
    body = node.body[1:] if isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) \
        else node.body
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].cause is not None:
        return None
    exc = body[0].exc
    if isinstance(exc, ast.Call) and not exc.keywords and all(isinstance(a, ast.Constant) for a in exc.args):
        exc = exc.func
    return body[0] if isinstance(exc, ast.Name) and exc.id == "NotImplementedError" else None


def _defer(namespace: Namespace, node: ast.stmt, origin: str) -> None:
    code = compile(ast.fix_missing_locations(ast.Module([node], [])), origin, "exec")
    deferred = Deferred(code, f"`{ast.unparse(node)[:80]}` ({where(origin, node.lineno)})", _computes(node))
    for name in _targets(node):  # run top to bottom, this assignment's value is the last
        dict.pop(namespace, name, None)
        namespace.deferred[name] = deferred


def _ran(namespace: Namespace, node: ast.stmt) -> None:
    """After a statement ran at load: its names are no longer deferred; a class joins its versions."""
    defines = isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    for name in {node.name} if defines else _assigned(node):
        namespace.deferred.pop(name, None)
    if isinstance(node, ast.ClassDef) and isinstance(dict.get(namespace, node.name), type):
        namespace.classes.append((node.name, namespace[node.name]))
