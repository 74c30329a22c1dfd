"""Provisioning the servers from package registries: Kafka from Maven Central, FerretDB
from the Go module proxy. Each lands under ``.local/tools/`` once; later calls are no-ops.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .config import DevstackSettings, repo_root

__all__ = [
    "MissingToolError",
    "apt_install",
    "ensure_ferretdb",
    "ensure_kafka",
    "go_module_dir",
    "require",
    "run_step",
]

FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
_COMPLETE = ".complete"


class MissingToolError(RuntimeError):
    """A program the local stack needs is not installed."""


_HINTS = {
    "java": "Java 17 or newer runs the Kafka broker (Debian: apt install openjdk-17-jre-headless).",
    "mvn": "Maven fetches the Kafka jars from Maven Central (Debian: apt install maven).",
    "go": "Go builds FerretDB from the Go module proxy (https://go.dev/doc/install, or apt install golang).",
}


def require(program: str) -> str:
    """The path of ``program``, or MissingToolError saying how to get it."""
    path = shutil.which(program)
    if path is None:
        raise MissingToolError(f"'{program}' was not found on PATH. {_HINTS.get(program, '')}")
    return path


def kafka_home(settings: DevstackSettings) -> Path:
    return settings.tools_dir / f"kafka-{settings.kafka_version}"


# FerretDB 1.24's SQLite backend looks documents up by ``_ferretdb_sjson->'$._id'`` while
# its primary-key index is on ``_ferretdb_sjson->"_id"``: SQLite only uses an index for the
# expression it was built on, so every lookup by _id scanned the whole collection (explain:
# "SCAN"; a 2,000-document collection took 15 ms an update). Writing the lookup the way the
# index is written lets SQLite use it, as FerretDB's documentation says it does.
_ID_LOOKUP_FIX = (
    "internal/backends/sqlite/metadata/metadata.go",
    "IDColumn = DefaultColumn + \"->'$._id'\"",
    'IDColumn = DefaultColumn + `->"_id"`',
)
BUILD = "newswire1"
"""Our build of a FerretDB version: the version plus the fix above."""


def ferretdb_binary(settings: DevstackSettings) -> Path:
    return settings.tools_dir / f"ferretdb-{settings.ferretdb_version}-{BUILD}" / "ferretdb"


def ensure_kafka(settings: DevstackSettings) -> Path:
    """Fetch the broker's jars with Maven (once); return the directory holding ``libs/``."""
    home = kafka_home(settings)
    if (home / _COMPLETE).exists():
        return home
    require("java")
    mvn = require("mvn")
    settings.tools_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="kafka-", dir=settings.tools_dir))
    try:
        run_step(
            [
                mvn,
                "--batch-mode",
                "--quiet",
                "--file",
                str(repo_root() / "deploy" / "local" / "kafka" / "pom.xml"),
                f"-Dkafka.version={settings.kafka_version}",
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={staging / 'libs'}",
            ],
            what=f"fetching Kafka {settings.kafka_version} from Maven Central",
        )
        if not any((staging / "libs").glob("kafka_2.13-*.jar")):
            raise RuntimeError("Maven finished but no kafka_2.13 jar was copied")
        (staging / _COMPLETE).write_text(settings.kafka_version)
        shutil.rmtree(home, ignore_errors=True)
        staging.rename(home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return home


def ensure_ferretdb(settings: DevstackSettings) -> Path:
    """Build FerretDB (once) from its module on the Go proxy; return the binary.

    ``go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`` builds, but the binary
    panics at start: the module zip ships an empty ``build/version/version.txt``, which
    FerretDB's own build fills in from git. So we download the same module version, write
    that file, apply the one-line _id lookup fix above, and build ``./cmd/ferretdb``.
    """
    binary = ferretdb_binary(settings)
    if binary.exists():
        return binary
    go = require("go")
    source = go_module_dir(f"{FERRETDB_MODULE}@{settings.ferretdb_version}")
    settings.tools_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ferretdb-src-", dir=settings.tools_dir) as tmp:
        build_dir = Path(tmp) / "src"
        shutil.copytree(source, build_dir)
        for path in build_dir.rglob("*"):  # the module cache is read-only
            path.chmod(path.stat().st_mode | 0o200)
        (build_dir / "build" / "version" / "version.txt").write_text(
            f"{settings.ferretdb_version}\n"
        )
        _apply_id_lookup_fix(build_dir)
        staged = Path(tmp) / "ferretdb"
        run_step(
            [go, "build", "-trimpath", "-o", str(staged), "./cmd/ferretdb"],
            what=f"building FerretDB {settings.ferretdb_version} (about a minute the first time)",
            cwd=build_dir,
        )
        binary.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staged, binary)
    return binary


def _apply_id_lookup_fix(build_dir: Path) -> None:
    path, before, after = _ID_LOOKUP_FIX
    source = (build_dir / path).read_text()
    if before not in source:
        raise RuntimeError(
            f"FerretDB source changed: {path} has no {before!r}; review the _id lookup fix"
        )
    (build_dir / path).write_text(source.replace(before, after))


def go_module_dir(module: str) -> Path:
    """Download ``module@version`` from the Go module proxy (once); its read-only directory."""
    listing = run_step(
        [require("go"), "mod", "download", "-json", module], what=f"downloading {module}"
    )
    return Path(json.loads(listing)["Dir"])


def apt_install(package: str, *, why: str) -> None:
    """Install one of Debian's packages, or say plainly why it cannot be done here."""
    if shutil.which("apt-get") is None:
        raise MissingToolError(
            f"{package} is needed ({why}) and apt-get is not available: install it"
        )
    if os.geteuid() != 0:
        raise MissingToolError(
            f"{package} is needed ({why}). Install it as root: "
            f"sudo apt-get install -y --no-install-recommends {package}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}  # noqa: TID251
    run_step(["apt-get", "update"], what="apt-get update", env=env)
    run_step(
        ["apt-get", "install", "-y", "--no-install-recommends", package],
        what=f"installing Debian's {package} with apt-get",
        env=env,
    )


def run_step(
    argv: list[str], *, what: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    """Run one provisioning step, saying what it does; its output, or RuntimeError with it."""
    print(f"newswire-dev: {what} ...", flush=True)
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout
