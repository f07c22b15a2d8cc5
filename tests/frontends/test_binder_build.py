"""Binder builds from binder/ with the pinned versions: the build repo2docker plans, run step by step without docker.

mybinder.org builds a repository with repo2docker. Without a docker daemon this test still proves as much of
that build as can be proven here:

1. ``repo2docker --no-build --no-run --debug`` (from an isolated venv under ``.cache/binder-test/``: its own
   pins must not fight ours, and a test extra would put them into binder/requirements.txt too) prints the
   Dockerfile it would build from a clean clone of HEAD (Binder builds commits, so only committed files
   count). The Dockerfile must take Python from binder/runtime.txt, run ``pip install --no-cache-dir -r
   "binder/requirements.txt"`` after the whole repository is copied in (so ``-e .[all]`` resolves), then
   binder/postBuild, and use binder/start as the entrypoint.
2. The steps that Dockerfile lists are executed outside docker: repo2docker's base notebook environment is
   rebuilt from the conda lock file the Dockerfile copies in (its Python packages, from PyPI at the locked
   versions, with the locked pip) in a fresh ``python3.11 -m venv``; then every ``RUN`` line after the
   repository copy runs verbatim with bash in the clean clone (plain pip, ``--no-cache-dir``, as Binder).
3. The result is checked: ``pip check``, every pin installed at its version, rcakit importable from the
   clone with its sample incidents, ``jupyter lab --version``/``voila --version`` equal to the pins,
   binder/start exec'ing its arguments with its environment, the quickstart notebook executing, and the
   Dockerfile's ``CMD`` server (started through binder/start like repo2docker's entrypoint does) serving
   each ``urlpath`` of the README's Binder badges.

Not proven: the docker image itself (buildpack-deps base, apt, conda's Python 3.11.x build instead of the
local python3.11, user jovyan instead of the test's user) and mybinder.org's launch (BinderHub starts
``jupyterhub-singleuser``, not the Dockerfile's ``CMD``).

Slow: 2.5 minutes on 2 busy cores, most of it pip downloading every wheel again (``--no-cache-dir``, as
Binder). It fails rather than skips under CI when python3.11 is missing. The built venv (~2.4 GB, in
.cache/binder-test/build) is removed afterwards unless RCAKIT_KEEP_BINDER_BUILD=1.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests._browser import stop_process

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "binder-test"
R2D_VERSION = "2026.4.0"  # jupyter-repo2docker: the Dockerfile and base environment below are this release's
NICE = ["nice", "-n", "10"]
# conda-forge names of the base environment's Python packages whose PyPI name differs
CONDA_TO_PYPI = {"jupyterhub-base": "jupyterhub", "nbconvert-core": "nbconvert",
                 "python-fastjsonschema": "fastjsonschema", "brotli-python": "brotli"}
# what the test's own process carries that a Binder container does not
_FOREIGN_ENV = ("RCAKIT_", "JUPYTER", "PYTHON", "VIRTUAL_ENV", "CONDA", "TQDM_", "MPLBACKEND", "PYTEST")

pytestmark = pytest.mark.slow


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("RCAKIT_REQUIRE_SHARED") == "1"


def _missing(message: str) -> NoReturn:
    if _ci():
        pytest.fail(message + " (CI=true or RCAKIT_REQUIRE_SHARED=1 makes this a failure)")
    pytest.skip(message)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` (cwd {cwd}) exited {done.returncode}:\n"
                    f"--- stdout (end)\n{done.stdout[-6000:]}\n--- stderr (end)\n{_quiet(done.stderr)[-6000:]}")
    return done


def _quiet(stderr: str) -> str:
    """pip's stderr without this machine's notes about empty local index folders."""
    return "\n".join(line for line in stderr.splitlines() if "is ignored: it is neither a file nor" not in line)


@dataclass(frozen=True)
class Plan:
    """What repo2docker would build: its Dockerfile and where its build scripts come from."""

    dockerfile: str
    log: str
    r2d_python: Path

    def lines(self) -> list[str]:
        """Dockerfile instructions, continuation lines joined."""
        out, current = [], ""
        for raw in self.dockerfile.splitlines():
            if raw.endswith("\\"):
                current += raw.removesuffix("\\").rstrip() + " "
                continue
            current += raw
            if current.strip() and not current.lstrip().startswith("#"):
                out.append(current.strip())
            current = ""
        return out

    def index(self, instruction: str) -> int:
        found = [i for i, line in enumerate(self.lines()) if line == instruction]
        assert len(found) == 1, f"{instruction!r} occurs {len(found)} times in the Dockerfile:\n{self.dockerfile}"
        return found[0]

    def assemble(self) -> list[str]:
        """The shell commands of the RUN lines after the repository is copied into the image."""
        lines = self.lines()
        copy = self.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
        return [line.removeprefix("RUN ").strip() for line in lines[copy + 1:] if line.startswith("RUN ")]

    def environment_lock(self) -> Path:
        """The conda lock file the Dockerfile copies to /tmp/env/environment.lock (named by its path's hash)."""
        copy = [line for line in self.lines() if line.startswith("COPY") and line.endswith(" /tmp/env/environment.lock")]
        assert len(copy) == 1, self.dockerfile
        digest = copy[0].split()[-2].rsplit("-", 1)[1]
        package = Path(subprocess.run([str(self.r2d_python), "-c", "import repo2docker; print(repo2docker.__file__)"],
                                      capture_output=True, text=True, check=True).stdout.strip()).parent
        matches = [p for p in (package / "buildpacks" / "conda").glob("environment*.lock")
                   if hashlib.sha256(str(p).encode()).hexdigest().startswith(digest)]
        assert len(matches) == 1, f"no lock file of {package} hashes to {digest}: {matches}"
        return matches[0]


def base_environment(lock: Path) -> dict[str, str]:
    """{PyPI name: version} of the Python packages in repo2docker's conda lock (build string ``py...``)."""
    out = {}
    for line in lock.read_text().splitlines():
        if not line.startswith("http"):
            continue
        filename = re.sub(r"\.(conda|tar\.bz2)$", "", line.rsplit("/", 1)[1].split("#", 1)[0])
        name, version, build = filename.rsplit("-", 2)
        if build.startswith("py"):  # python itself, nodejs, C libraries and metapackages build as h<hash>
            name = _canonical(name)
            out[CONDA_TO_PYPI.get(name, name)] = version
    return out


def _locked_python(lock: Path) -> str:
    found = re.search(r"/python-(3\.[0-9]+\.[0-9]+)-[^/#]*_cpython\.", lock.read_text())
    return found.group(1) if found else "?"


@pytest.fixture(scope="module")
def cache() -> Iterator[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:  # one build at a time per checkout
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield CACHE


@pytest.fixture(scope="module")
def clean_copy(cache: Path) -> Iterator[Path]:
    """A clone of HEAD's commit: what Binder fetches (uncommitted and ignored files are not in it)."""
    if shutil.which("git") is None:
        _missing("git is missing")
    work = cache / "build"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    head = _run(["git", "-C", str(ROOT), "rev-parse", "HEAD"]).stdout.strip()
    repo = work / "repo"
    _run(["git", "clone", "--quiet", "--no-checkout", "--no-hardlinks", str(ROOT), str(repo)])
    _run(["git", "-C", str(repo), "checkout", "--quiet", "--detach", head])
    yield repo
    if os.environ.get("RCAKIT_KEEP_BINDER_BUILD") != "1":
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def plan(cache: Path, clean_copy: Path) -> Plan:
    venv = cache / f"repo2docker-{R2D_VERSION}"
    r2d = venv / "bin" / "repo2docker"
    if not r2d.exists():
        shutil.rmtree(venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([*NICE, str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
              f"jupyter-repo2docker=={R2D_VERSION}"])
    done = _run([str(r2d), "--no-build", "--no-run", "--debug", "--user-id", "1000", "--user-name", "jovyan",
                 str(clean_copy)], timeout=300)
    assert done.stdout.lstrip().startswith("FROM "), f"repo2docker printed no Dockerfile:\n{done.stdout}\n{done.stderr}"
    return Plan(dockerfile=done.stdout, log=done.stderr, r2d_python=venv / "bin" / "python")


def test_repo2docker_plans_the_build_from_the_binder_folder(plan: Plan, clean_copy: Path) -> None:
    runtime = (clean_copy / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    assert "Building conda environment for python=3.11" in plan.log, plan.log
    assert plan.environment_lock().name == "environment.py-3.11-linux-64.lock"
    copy = plan.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = plan.index('RUN ${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = plan.index("RUN ./binder/postBuild")
    assert copy < install < post_build, "the requirements (ending in -e .[all]) install after the repository copy"
    assert plan.index('ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"') > post_build
    installs = [line for line in plan.lines() if re.search(r"\b(pip|mamba|conda) (install|env)", line)]
    assert installs == ['RUN ${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"'], (
        "binder/ is the only environment specification repo2docker uses")
    assert plan.assemble() == ['${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"',
                               "chmod +x binder/postBuild", "./binder/postBuild",
                               'chmod +x "${REPO_DIR}/binder/start"']


@dataclass(frozen=True)
class Built:
    repo: Path
    prefix: Path
    env: dict[str, str]
    plan: Plan

    def run(self, cmd: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return _run(cmd, cwd=self.repo, env=self.env, timeout=timeout)

    def entrypoint(self, *command: str) -> list[str]:
        """What repo2docker's entrypoint runs: $R2D_ENTRYPOINT followed by the container's command."""
        return [str(self.repo / "binder" / "start"), *command]


@pytest.fixture(scope="module")
def built(plan: Plan, clean_copy: Path, cache: Path) -> Built:
    runtime = (clean_copy / "binder" / "runtime.txt").read_text().strip()
    wanted = "python" + runtime.removeprefix("python-")
    python = shutil.which(wanted)
    if python is None:
        _missing(f"{wanted} (binder/runtime.txt says {runtime}) is not on PATH")
    prefix, home = cache / "build" / "notebook-env", cache / "build" / "home"
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV)}
    env.update(HOME=str(home), REPO_DIR=str(clean_copy), NB_PYTHON_PREFIX=str(prefix),
               KERNEL_PYTHON_PREFIX=str(prefix), PYTHONUNBUFFERED="1",
               PATH=os.pathsep.join([str(home / ".local" / "bin"), str(clean_copy / ".local" / "bin"),
                                     str(prefix / "bin"), os.environ.get("PATH", "/usr/bin:/bin")]))
    # repo2docker's base notebook environment: the lock's Python packages at the locked versions, its pip first
    base = base_environment(plan.environment_lock())
    _run([python, "-m", "venv", str(prefix)])
    _run([*NICE, str(prefix / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-cache-dir",
          f"pip=={base.pop('pip')}"], env=env)
    (cache / "build" / "base-environment.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(base.items())))
    _run([*NICE, str(prefix / "bin" / "pip"), "install", "--quiet", "--no-cache-dir", "--no-deps",
          "-r", str(cache / "build" / "base-environment.txt")], env=env)
    # the assemble steps, verbatim, as the notebook user in the repository
    for command in plan.assemble():
        try:
            _run([*NICE, "bash", "-c", command], cwd=clean_copy, env=env, timeout=900)
        except pytest.fail.Exception as failure:
            local = _run([python, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
            pytest.fail(f"{failure}\n(this build used {python}, Python {local}; Binder's is conda's "
                        f"Python {_locked_python(plan.environment_lock())}: a `Requires-Python` above the local "
                        "micro version fails here only)")
    return Built(repo=clean_copy, prefix=prefix, env=env, plan=plan)


def _pins(repo: Path) -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("binder_pin_clone", repo / "binder" / "pin.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read_pins(repo / "binder" / "requirements.txt")


def test_binder_environment_has_every_pin_and_no_broken_requirement(built: Built) -> None:
    built.run([str(built.prefix / "bin" / "pip"), "check"])
    listed = built.run([str(built.prefix / "bin" / "python"), "-c",
                        "import json; from importlib import metadata; "
                        "print(json.dumps({d.metadata['Name']: d.version for d in metadata.distributions()}))"])
    installed = {_canonical(name): version for name, version in json.loads(listed.stdout).items()}
    pins = _pins(built.repo)
    assert len(pins) > 100
    wrong = {name: (version, installed.get(name)) for name, version in pins.items() if installed.get(name) != version}
    assert not wrong, f"pinned, installed: {wrong}"


def test_rcakit_and_its_samples_load_through_binder_start(built: Built) -> None:
    script = ("import json, os, rcakit\n"
              "names = rcakit.sample_names()\n"
              "nodes = {n: len(rcakit.sample_incident(n).telemetry.nodes()) for n in names}\n"
              "print(json.dumps({'file': rcakit.__file__, 'progress': os.environ.get('RCAKIT_PROGRESS'),"
              " 'nodes': nodes}))\n")
    done = built.run(built.entrypoint(str(built.prefix / "bin" / "python"), "-c", script))
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(seen["file"]).resolve().is_relative_to(built.repo.resolve()), "-e .[all] installs the clone itself"
    assert seen["progress"] == "0", "binder/start exports RCAKIT_PROGRESS=0 before exec'ing its arguments"
    assert seen["nodes"] and all(count > 0 for count in seen["nodes"].values()), seen


def test_jupyterlab_and_voila_run_at_their_pinned_versions(built: Built) -> None:
    pins = _pins(built.repo)
    assert built.run(built.entrypoint("jupyter", "lab", "--version")).stdout.strip() == pins["jupyterlab"]
    assert built.run(built.entrypoint("voila", "--version")).stdout.strip() == pins["voila"]


def test_the_quickstart_notebook_executes_in_the_binder_environment(built: Built, tmp_path: Path) -> None:
    built.run(built.entrypoint("jupyter", "nbconvert", "--execute", "--to", "notebook", "--output-dir", str(tmp_path),
                               "notebooks/01_quickstart.ipynb"), timeout=300)
    import nbformat

    nb = nbformat.read(tmp_path / "01_quickstart.ipynb", as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(cell.get("execution_count") for cell in code), "every code cell ran"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 180) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def test_the_readme_badges_urlpaths_open_in_the_dockerfiles_server(built: Built) -> None:
    readme = (built.repo / "README.md").read_text(encoding="utf-8")
    urlpaths = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]*?[?&]urlpath=([^)&\s]+)", readme)
    assert urlpaths, "the README has no Binder badge with a urlpath"
    cmd_line = [line for line in built.plan.lines() if line.startswith("CMD ")]
    command = json.loads(cmd_line[-1].removeprefix("CMD "))
    assert command[:2] == ["jupyter", "notebook"] and "--ip" in command, command
    command[command.index("--ip") + 1] = "127.0.0.1"  # the container listens on all interfaces; this test need not
    port, token = _free_port(), "binder-build-test"
    command += ["--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
                "--VoilaConfiguration.show_tracebacks=True"]
    if os.geteuid() == 0:  # Binder runs as jovyan; jupyter refuses root unless told
        command.append("--allow-root")
    log = built.repo.parent / "server.log"
    with open(log, "w") as out:
        server = subprocess.Popen(built.entrypoint(*command), cwd=built.repo, env=built.env, stdout=out,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _ready(base):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`{' '.join(command)}` did not serve {base}/api:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        for urlpath in urlpaths:
            status, page = _get(f"{base}/{urlpath}?token={token}")
            assert status == 200, f"/{urlpath}: HTTP {status}\n{page[:2000]}\n{log.read_text()[-4000:]}"
            kind, _, path = urlpath.partition("/")
            if kind == "lab":  # lab/tree/<path>: JupyterLab's page, and the file it opens exists
                path = path.removeprefix("tree/")
                assert "<title>JupyterLab" in page
                assert _get(f"{base}/api/contents/{path}?content=0&token={token}")[0] == 200, path
            elif kind == "voila":  # voila/render/<path>: the notebook ran server-side without an error
                path = path.removeprefix("render/")
                assert f"<title>{Path(path).stem}" in page, page[:2000]
                for mark in ("Traceback", "error when executing", '"output_type": "error"', "jp-OutputArea-error"):
                    assert mark not in page, f"/{urlpath} shows {mark!r}:\n{page[-4000:]}"
            else:
                pytest.fail(f"the README's urlpath {urlpath!r} is neither lab/... nor voila/...: add a check")
    finally:
        stop_process(server)


def _ready(base: str) -> bool:
    try:
        return _get(f"{base}/api", timeout=5)[0] == 200
    except OSError:  # connection refused: not listening yet
        return False
