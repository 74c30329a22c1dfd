"""The Docker engine and its compose and buildx plugins: found, or installed and started.

What ``make compose-up`` and the container test rings need. Debian's ``docker.io`` package
brings the engine; the compose v2 plugin and buildx (which compose builds through) are built
from their Go modules when the machine has none, since no download site but the package
registries can be reached. Plugins go where the docker CLI looks for a user's own
(``$DOCKER_CONFIG/cli-plugins``), never over a system-wide install.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from .config import DevstackSettings
from .tools import MissingToolError, apt_install, go_module_dir, require, run_step

__all__ = ["engine_answers", "ensure_compose", "ensure_engine"]

COMPOSE_MODULE = "github.com/docker/compose/v5"
BUILDX_MODULE = "github.com/docker/buildx"
MIN_BUILDX = (0, 17)
"""compose refuses to build through an older buildx."""


def engine_answers() -> bool:
    """True when a Docker engine answers the docker client."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def ensure_engine(settings: DevstackSettings, *, timeout: float = 90.0) -> None:
    """A Docker engine that answers: the running one, else dockerd started (installed first)."""
    if engine_answers():
        return
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        apt_install("docker.io", why="a Docker engine runs the compose stack and test containers")
    dockerd = require("dockerd")
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    log = settings.logs_dir / "dockerd.log"
    print(f"newswire-dev: starting the Docker engine (log: {log}) ...", flush=True)
    with log.open("ab") as out:
        # Its own session: the engine outlives this command, as a system service would.
        subprocess.Popen([dockerd], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not engine_answers():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"dockerd did not answer in {timeout:.0f}s; its log ends:\n{tail}")
        time.sleep(1.0)


def ensure_compose(settings: DevstackSettings) -> None:
    """The compose plugin and a buildx of at least 0.17, built from Go modules if missing."""
    require("docker")
    if _plugin_version("compose") is None:
        version = settings.compose_version
        binary = _build(
            settings,
            "compose",
            f"{COMPOSE_MODULE}@{version}",
            "./cmd",
            f"-X {COMPOSE_MODULE}/internal.Version={version}",
        )
        _install_plugin(settings, "compose", binary)
    buildx = _plugin_version("buildx")
    if buildx is None or _version_tuple(buildx) < MIN_BUILDX:
        version = settings.buildx_version
        # Without the version compose takes it for too old and refuses it.
        binary = _build(
            settings,
            "buildx",
            f"{BUILDX_MODULE}@{version}",
            "./cmd/buildx",
            f"-X {BUILDX_MODULE}/version.Version={version}",
        )
        _install_plugin(settings, "buildx", binary)
    for plugin in ("compose", "buildx"):
        if _plugin_version(plugin) is None:
            raise MissingToolError(f"docker {plugin} does not answer after installing it")


def _plugin_version(plugin: str) -> str | None:
    """``docker <plugin> version``'s version, or None when the plugin is missing."""
    result = subprocess.run(
        ["docker", plugin, "version"], capture_output=True, text=True, timeout=30, check=False
    )
    if result.returncode != 0:
        return None
    words = [word for word in result.stdout.split() if word[:1] == "v" and word[1:2].isdigit()]
    return words[0] if words else "unknown"


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.lstrip("v").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


def _build(settings: DevstackSettings, name: str, module: str, package: str, ldflags: str) -> Path:
    """Build one command of a Go module (once) into .local/tools; return the binary.

    ``go install module@version`` refuses modules with ``exclude`` directives (compose has
    some), so the module is downloaded and built in place.
    """
    version = module.rsplit("@", 1)[1]
    binary = settings.tools_dir / f"docker-{name}-{version}" / f"docker-{name}"
    if binary.exists():
        return binary
    source = go_module_dir(module)
    binary.parent.mkdir(parents=True, exist_ok=True)
    staged = binary.with_suffix(".partial")
    run_step(
        [
            require("go"),
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w {ldflags}",
            "-o",
            str(staged),
            package,
        ],
        what=f"building docker {name} {version} from its Go module (a few minutes the first time)",
        cwd=source,
    )
    staged.rename(binary)
    return binary


def _install_plugin(settings: DevstackSettings, plugin: str, binary: Path) -> None:
    plugins = settings.docker_config / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    target = plugins / f"docker-{plugin}"
    # A copy, not a link: the plugin keeps working when this checkout goes away.
    shutil.copy2(binary, target)
    print(f"newswire-dev: installed docker {plugin} as {target}", flush=True)
