"""Local stand-ins for the official images compose runs, where those cannot be pulled.

compose.yaml names the official images (overridable by variables); on a machine that
reaches no image registry, these are built from the package registries instead
(deploy/images/, all on one Debian base made with debootstrap that trusts this machine's
CA bundle):

| official | stand-in | from |
|---|---|---|
| python:3.11-slim | newswire-local/python:3.11-slim | Debian's python3 |
| ghcr.io/astral-sh/uv | newswire-local/uv | the uv release the Makefile installs from PyPI |
| apache/kafka | newswire-local/kafka | the same release's jars from Maven Central |
| mongo:8 | newswire-local/ferretdb | the local stack's FerretDB build (no MongoDB server is in any registry) |

Each stand-in is labelled with a digest of what it is built from and rebuilt only when that
changes. Local names only: nothing here is pushed, or tagged as an official image.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import DevstackSettings, repo_root
from .tools import apt_install, ensure_ferretdb, require, run_step

__all__ = ["IMAGES", "Image", "compose_images", "official_default"]

IMAGES_DIR = repo_root() / "deploy" / "images"
BASE = "newswire-local/debian:bookworm"
SUITE = "bookworm"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
_LABEL = "dev.newswire.source"
_DEFAULT = re.compile(r"\$\{(?P<name>\w+):-(?P<default>[^}]+)\}")


@dataclass(frozen=True)
class Image:
    """An official image compose uses, the variable that overrides it, and its stand-in."""

    variable: str
    source: str
    """Where the default is written: compose.yaml or the Dockerfile's ARG."""
    folder: str
    """Its stand-in's folder under deploy/images/."""


IMAGES = (
    Image("KAFKA_IMAGE", "compose", "kafka"),
    Image("MONGODB_IMAGE", "compose", "ferretdb"),
    Image("NEWSWIRE_PYTHON_IMAGE", "dockerfile:PYTHON_IMAGE", "python"),
    Image("NEWSWIRE_UV_IMAGE", "dockerfile:UV_IMAGE", "uv"),
)


def official_default(image: Image) -> str:
    """The official image operators get: the default written in compose.yaml or the Dockerfile."""
    if image.source == "compose":
        text = (repo_root() / "compose.yaml").read_text()
        defaults = {m["name"]: m["default"] for m in _DEFAULT.finditer(text)}
        return defaults[image.variable]
    arg = image.source.split(":", 1)[1]
    match = re.search(rf"^ARG {arg}=(\S+)$", (repo_root() / "Dockerfile").read_text(), re.M)
    if match is None:
        raise RuntimeError(f"the Dockerfile has no ARG {arg}=<default>")
    return match[1]


def compose_images(settings: DevstackSettings) -> dict[str, str]:
    """The image variables compose needs on this machine: {} where official images can be had.

    An official image is used when it is present or can be pulled; otherwise (or with
    ``NEWSWIRE_STANDINS=always``) its stand-in is built and named in the returned variables.
    """
    if settings.standins == "never":
        return {}
    chosen: dict[str, str] = {}
    for image in IMAGES:
        official = official_default(image)
        if settings.standins == "auto" and _available(official):
            continue
        chosen[image.variable] = _ensure_standin(settings, image, official)
    return chosen


def _available(image: str) -> bool:
    if _inspect(image) is not None:
        return True
    pulled = subprocess.run(
        ["docker", "pull", "--quiet", image],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return pulled.returncode == 0


def _inspect(image: str, label: str | None = None) -> str | None:
    """None when the image is absent; else its label's value ("" if unlabelled)."""
    result = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{index .Config.Labels "{label or _LABEL}"}}}}',
            image,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _ensure_standin(settings: DevstackSettings, image: Image, official: str) -> str:
    # Named for what it runs: FerretDB's version, else the official image's tag.
    version = (
        settings.ferretdb_version if image.folder == "ferretdb" else official.rsplit(":", 1)[1]
    )
    tag = f"newswire-local/{image.folder}:{version}"
    stage: Callable[[Path, DevstackSettings, str], None] = _STAGERS[image.folder]
    with tempfile.TemporaryDirectory(
        prefix=f"image-{image.folder}-", dir=_scratch(settings)
    ) as tmp:
        context = Path(tmp)
        shutil.copytree(IMAGES_DIR / image.folder, context, dirs_exist_ok=True)
        stage(context, settings, version)
        base = _ensure_base(settings) if image.folder != "uv" else ""
        digest = _digest(context, base)
        if _inspect(tag) == digest:
            return tag
        argv = ["docker", "build", "--quiet", "--tag", tag, "--label", f"{_LABEL}={digest}"]
        if base:
            argv += ["--build-arg", f"BASE_IMAGE={base}"]
        run_step([*argv, str(context)], what=f"building the stand-in {tag} for {official}")
    return tag


def _ensure_base(settings: DevstackSettings) -> str:
    """Debian from Debian's packages (debootstrap), trusting this machine's CA bundle.

    The bundle goes both where programs read it and where ``update-ca-certificates`` keeps
    local authorities, so installing Debian's ca-certificates in a later layer keeps it.
    """
    digest = hashlib.sha256(
        f"{SUITE} {settings.debian_mirror}\n".encode() + CA_BUNDLE.read_bytes()
    ).hexdigest()[:16]
    if _inspect(BASE) == digest:
        return BASE
    if shutil.which("debootstrap") is None:
        apt_install("debootstrap", why="it makes the Debian base of the stand-in images")
    with tempfile.TemporaryDirectory(prefix="debian-", dir=_scratch(settings)) as tmp:
        root = Path(tmp) / "root"
        run_step(
            [require("debootstrap"), "--variant=minbase", SUITE, str(root), settings.debian_mirror],
            what=f"making a Debian {SUITE} root file system with debootstrap (about a minute)",
        )
        for folder in ("etc/ssl/certs", "usr/local/share/ca-certificates"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")
        shutil.copyfile(CA_BUNDLE, root / "usr/local/share/ca-certificates/machine-trust.crt")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (root / cache).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                'CMD ["bash"]',
                "--change",
                "ENV LANG=C.UTF-8",
                # uv and others bring their own roots unless pointed at the system's.
                "--change",
                f"ENV SSL_CERT_FILE={CA_BUNDLE}",
                "--change",
                f"LABEL {_LABEL}={digest}",
                "-",
                BASE,
            ],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise RuntimeError(
                f"docker import of the Debian base failed:\n{imported.stderr[-2000:]}"
            )
    return BASE


def _stage_uv(context: Path, settings: DevstackSettings, version: str) -> None:
    uv = settings.tools_dir / f"uv-{version}" / "bin"
    if not (uv / "uv").exists():
        raise RuntimeError(
            f"the Dockerfile builds with uv {version}, which is not installed under {uv}; "
            "keep the Makefile's UV_VERSION and the Dockerfile's UV_IMAGE the same"
        )
    for name in ("uv", "uvx"):
        shutil.copy2(uv / name, context / name)


def _stage_kafka(context: Path, settings: DevstackSettings, version: str) -> None:
    run_step(
        [
            require("mvn"),
            "--batch-mode",
            "--quiet",
            "--file",
            str(context / "pom.xml"),
            f"-Dkafka.version={version}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={context / 'libs'}",
        ],
        what=f"fetching Kafka {version} and its tools from Maven Central",
    )


def _stage_ferretdb(context: Path, settings: DevstackSettings, version: str) -> None:
    del version  # always the local stack's build
    shutil.copy2(ensure_ferretdb(settings), context / "ferretdb")


def _stage_nothing(context: Path, settings: DevstackSettings, version: str) -> None:
    del context, settings, version


_STAGERS: dict[str, Callable[[Path, DevstackSettings, str], None]] = {
    "uv": _stage_uv,
    "kafka": _stage_kafka,
    "ferretdb": _stage_ferretdb,
    "python": _stage_nothing,
}


def _digest(context: Path, base: str) -> str:
    """Of every file of a build context and the base it builds on: what the image is made of."""
    digest = hashlib.sha256(f"{base}={_inspect(base) if base else ''}\n".encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(context)} {path.stat().st_mode & 0o111}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _scratch(settings: DevstackSettings) -> Path:
    path = settings.local_dir / "images"
    path.mkdir(parents=True, exist_ok=True)
    return path
