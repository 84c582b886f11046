"""The hostile corpus of issue 14: what the worker must not see, and marks it must not forge.

A secret is planted in each place a student could look: the source tree, its `.git`, `/tmp`,
the grading user's home, `/etc/shadow`, another student's folder and that student's worker
home during `grade batch`, and a Unix socket listening outside. A thief looks in all of them
and puts what it finds in its answers (exception messages, printed output). One graded run
of a class serves every assertion: not one secret reaches a report, a JSON, a CSV, the
summary or the listener, and the correct submission graded beside the thief keeps full
marks. The run is repeated through a user namespace (the unprivileged path), as an ordinary
user the test creates where that user can run this Python, and from a non-editable install.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import site as site_module
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, by_id, reference_source

from grader.sandbox import isolation

TOKEN = f"planted-{uuid.uuid4().hex}"
FOUND = isolation.probe() if isolation.LINUX else {}
ROOTED = bool(FOUND.get("done", {}).get("root") and FOUND.get("done", {}).get("pivot"))
need_root = pytest.mark.skipif(
    not ROOTED, reason="no allow-list root for the worker here (needs a mount namespace)"
)

THIEF = """\
import glob, os, socket, time

PLACES = {places!r}
SOCKET = {socket!r}


def _loot():
    found = []
    for pattern in PLACES + ["/tmp/grader-worker-*/*", "/tmp/*", "/home/*", "/root/.*"]:
        for path in glob.glob(pattern):
            if path.startswith(os.getcwd()):  # its own home: its own source names the places
                continue
            try:
                with open(path, errors="replace") as f:
                    found.append(f"{{path}}: {{f.read(300)}}")
            except Exception as e:
                found.append(f"{{path}}: {{type(e).__name__}}")
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in ("proc", "site-packages", "dist-packages")]
        found += [os.path.join(top, f) for f in files if "planted" in f]
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(SOCKET)
        s.sendall(b"hello from the worker")
        found.append("socket: connected " + s.recv(100).decode())
    except Exception as e:
        found.append(f"socket: {{type(e).__name__}}")
    return " | ".join(found)


def conv_output_size(size, kernel, padding, stride):
    for _ in range(15):  # the victim is graded beside the thief: wait for its worker home
        if set(glob.glob("/tmp/grader-worker-*")) - {{os.getcwd()}}:
            break
        time.sleep(0.1)
    loot = _loot()
    print(loot)
    raise ValueError(loot)


def conv_params(in_channels, out_channels, kernel):
    return _loot()
"""

VICTIM = (
    reference_source("answers")
    + f'''

SECRET = "{TOKEN} (the victim's answers)"


def _slow():
    import time
    time.sleep(3)  # its worker home stays while the thief looks
'''
)


def _plant(tmp_path: Path) -> tuple[list[Path], list[str]]:
    """Secret files where the worker must not look; the glob patterns the thief tries."""
    places = [
        ROOT / f".{TOKEN}",
        Path("/tmp") / f"{TOKEN}.txt",
        Path(os.path.expanduser("~")) / f".{TOKEN}",
    ]
    if os.path.isdir("/home") and os.access("/home", os.W_OK):
        places.append(Path("/home") / TOKEN)
    planted = []
    for path in places:
        try:
            path.write_text(f"{TOKEN} at {path}")
            planted.append(path)
        except OSError:
            pass
    lab = ROOT / "grader" / "labs" / "rdfia"
    patterns = [str(p) for p in places] + [
        str(REFERENCE / "*.py"),
        str(lab / "rubric" / "*.py"),
        str(lab / "oracle" / "*.py"),
        str(lab / "questions.toml"),
        str(ROOT / ".git"),
        str(ROOT / ".git" / "*"),
        "/etc/shadow",
        str(tmp_path / "class" / "*" / "*"),
        str(tmp_path / "class" / "*"),
    ]
    return planted, patterns


@pytest.fixture(scope="module")
def listener(tmp_path_factory):
    path = tmp_path_factory.mktemp("sock") / f"{TOKEN}.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    server.setblocking(False)
    yield server, str(path)
    server.close()


def _leaks(folder: Path) -> list[str]:
    """Every secret of the corpus found in the files under `folder`."""
    tells = [
        TOKEN,
        "def backward(",
        "gitdir:",
        "ref: refs/",
        "root:*:",
        "root:!:",
        "root:$",
        "socket: connected",
    ]
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            found += [f"{path.name}: {tell}" for tell in tells if tell in text]
    return found


ONLY_ROOT = ("an unprivileged user", "memory bound", "CPU shared")  # `grade isolation`'s rows


def _run_class(
    base: Path,
    listener,
    command=(sys.executable, "-m", "grader.cli"),
    env=None,
    user=None,
    prefix=(),
):
    """Grade a class of three with `grade batch --jobs 2`: a thief and its victim side by side,
    then a correct submission. `base` is a folder that `user`, if given, owns. Through a user
    namespace or as an ordinary user, the worker lacks what only root gives (an unprivileged
    uid of its own, cgroups): `--weak-isolation` says the run knows it."""
    server, sock = listener
    planted, patterns = _plant(base)
    try:
        cls = base / "class"
        for name, text in (
            ("a-thief", THIEF.format(places=patterns, socket=sock)),
            ("b-victim", VICTIM),
            ("c-good", reference_source("answers")),
        ):
            (cls / name).mkdir(parents=True)
            (cls / name / "answers.py").write_text(text)
        out = base / "out"
        for path in [cls, *cls.rglob("*")] if user else []:
            shutil.chown(path, user)
        weak = ["--weak-isolation"] if env or user else []
        if weak:  # what it lacks, and nothing else
            shown = subprocess.run(
                [*prefix, *command, "isolation"],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=base,
                env={**os.environ, **(env or {})},
            ).stdout.splitlines()
            off = [line for line in shown if line.startswith("NO")]
            assert all(any(w in line for w in ONLY_ROOT) for line in off) and len(shown) > 10, shown
        run = subprocess.run(
            [
                *prefix,
                *command,
                "batch",
                str(cls),
                "--out",
                str(out),
                "--parts",
                "answers",
                "--jobs",
                "2",
                *weak,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=base,
            env={**os.environ, **(env or {})},
        )  # cwd: never this tree's `grader`
    finally:
        for path in planted:
            path.unlink()
    assert run.returncode == 0, run.stderr
    with pytest.raises(BlockingIOError):
        server.accept()  # nobody came
    return out


def _judge(out: Path) -> None:
    assert _leaks(out) == []
    good = json.loads((out / "results" / "c-good.json").read_text())
    assert good["score"] == good["max_score"] > 0
    thief = json.loads((out / "results" / "a-thief.json").read_text())
    assert "socket: " in json.dumps(
        thief
    )  # its loot reached its JSON: a secret found would have too
    assert any("socket" in f["what"] for f in thief["flags"])  # the cheat report saw it, at no cost
    assert "sockets" in (out / "summary.html").read_text()


@need_root
def test_no_secret_reaches_any_output_as_root(tmp_path, listener):
    _judge(_run_class(tmp_path, listener))


@need_root
def test_no_secret_reaches_any_output_through_a_user_namespace(tmp_path, listener):
    _judge(_run_class(tmp_path, listener, env={"GRADER_ISOLATION_USERNS": "1"}))


def _as_user(name: str, keep: str) -> list[str]:
    """The command prefix that runs a command as the ordinary user `name`. Where this Python lives
    under a folder others may not enter (pyenv's /root, mode 700), the command runs in a private
    mount namespace in which that folder is an open tmpfs holding only the interpreter's own
    subfolder, bound back: nothing changes on the machine."""
    prefix = Path(sys.base_prefix).resolve()  # a venv's interpreter is its base's
    closed = next(
        (p for p in prefix.parents if p != Path("/") and not p.stat().st_mode & 0o001), None
    )
    if closed is None or not shutil.which("unshare"):
        return ["runuser", "-u", name, "--"]
    inner = prefix.relative_to(closed).parts[0]
    setup = (
        f"mount --bind {closed / inner} {keep} && mount -t tmpfs -o mode=755 tmpfs {closed} && "
        f'mkdir {closed / inner} && mount --move {keep} {closed / inner} && exec runuser -u {name} -- "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup, "sh"]


@pytest.fixture(scope="module")
def ordinary_user():
    """(name, command prefix) of an ordinary user that this test creates and removes."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("needs root and useradd/runuser to create an ordinary user")
    name = f"gr{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/false", name], check=True)
    keep = tempfile.mkdtemp(prefix="grader-test-keep-")  # stays empty here: the binds happen inside
    try:
        prefix = _as_user(name, keep)
        probe = subprocess.run(
            [*prefix, sys.executable, "-c", "import torch, grader"],
            capture_output=True,
            text=True,
            cwd="/",
        )
        if probe.returncode != 0:
            pytest.skip(
                f"an ordinary user cannot run this Python here ({probe.stderr.strip()[-120:]})"
            )
        yield name, prefix
    finally:
        subprocess.run(["userdel", name], check=False)
        os.rmdir(keep)


@need_root
def test_no_secret_reaches_any_output_as_an_ordinary_user(listener, ordinary_user):
    user, prefix = ordinary_user
    assert pwd.getpwnam(user).pw_uid != 0
    base = Path(tempfile.mkdtemp(prefix="grader-test-user-"))
    try:
        shutil.chown(base, user)
        _judge(_run_class(base, listener, user=user, prefix=prefix))
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A non-editable install of this tree into a venv that sees the system's packages."""
    venv, tree = tmp_path_factory.mktemp("venv"), tmp_path_factory.mktemp("tree") / "rdfia-grader"
    shutil.copytree(
        ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "build", "reports", "*.egg-info")
    )
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    if (
        sys.prefix != sys.base_prefix
    ):  # run from a venv: the new one sees its base, so this venv's packages too
        site = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(site) / "outer-venv.pth").write_text("\n".join(site_module.getsitepackages()) + "\n")
    build = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q", str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=venv,
    )
    if build.returncode != 0:
        pytest.skip(f"cannot build a non-editable install here: {build.stderr.strip()[-200:]}")
    python = venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import grader; print(grader.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=venv,
    ).stdout
    assert str(venv) in where  # the copy, not this tree
    return python


@need_root
def test_no_secret_reaches_any_output_from_a_non_editable_install(tmp_path, listener, installed):
    _judge(_run_class(tmp_path, listener, command=(str(installed), "-m", "grader.cli")))


# -- marks that cannot be forged -------------------------------------------------------

FORGED_CONVNET = (
    reference_source("tp2_cnn").replace("class ConvNet(nn.Module):", "class Handout(nn.Module):", 1)
    + '''

import grader.labs.rdfia.worker.probes.tp2_cnn as _probes


class ConvNet(nn.Module):
    """Wrong: one convolution and one linear layer."""

    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 5, padding=2), nn.Linear(8 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(self.conv(x).flatten(1))


_describe_model = _probes.describe_model
_probes.describe_model = lambda ns, name, x, train=False: _describe_model(
    {name: Handout if name == "ConvNet" else ns[name]}, name, x, train)
'''
)


def test_a_patched_model_description_earns_no_convnet_marks(make_submission, grade_path):
    report = grade_path(make_submission({"tp2_cnn.py": FORGED_CONVNET}), parts=("tp2_cnn",))
    tests = by_id(report)
    layers = tests["tp2_cnn::convnet::layers"]
    assert layers.status == "failed" and "tampered" in layers.message
    count = tests[
        "tp2_cnn::convnet::param_count"
    ]  # counted from its tensors: the real count, not the description's
    assert count.status == "failed" and "82,538 trainable parameters" in count.message
    assert any(f["what"] == "imports the grader" for f in report.flags)


def test_grade_isolation_runs_for_an_ordinary_user():
    """`grade isolation` as an unprivileged user: rows, not a PermissionError (its own probe
    files go where that user may write)."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user `nobody` here")
    if os.geteuid() != 0:
        pytest.skip("already an ordinary user: test_cli runs grade isolation as this one")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            os.setgroups([]), os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid)
            rows = isolation.protections()
            os.write(write, json.dumps([r["what"] for r in rows]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    assert len(json.loads(data)) == len(isolation.protections(FOUND))


def test_a_missing_protection_is_said_and_batch_refuses_without_weak_isolation(tmp_path):
    (tmp_path / "class" / "good").mkdir(parents=True)
    (tmp_path / "class" / "good" / "answers.py").write_text(reference_source("answers"))
    env = {**os.environ, "GRADER_ISOLATION": "0"}  # as on a platform without namespaces or Landlock

    def grade(*args):
        return subprocess.run(
            [sys.executable, "-m", "grader.cli", *args, "--parts", "answers"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )

    check = grade("check", str(tmp_path / "class" / "good"))
    assert check.returncode == 0 and "grade: note: isolation is off" in check.stderr
    batch = ["batch", str(tmp_path / "class"), "--out", str(tmp_path / "out")]
    refused = grade(*batch)
    assert (
        refused.returncode == 2
        and "--weak-isolation" in refused.stderr
        and not (tmp_path / "out").exists()
    )
    assert grade(*batch, "--weak-isolation").returncode == 0
