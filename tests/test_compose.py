"""Static checks of compose.yaml, the Dockerfile and .env.example (no Docker engine needed).

Compose passes configuration only through environment variables, and a misspelled one is
silently ignored by the services; these tests tie every variable, command and port in
compose.yaml back to the code that reads it.
"""

from __future__ import annotations

import importlib
import ipaddress
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from newswire_devstack.config import DevstackSettings
from newswire_platform import ServiceSettings, StoreSettings
from pydantic import AliasChoices
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

ROOT = Path(__file__).resolve().parent.parent


def _service_settings() -> dict[str, type[ServiceSettings]]:
    """Each service's settings class, found in its own config module (services/<name>/)."""
    found: dict[str, type[ServiceSettings]] = {}
    for pyproject in sorted((ROOT / "services").glob("*/pyproject.toml")):
        name = pyproject.parent.name
        module = importlib.import_module(f"newswire_{name}.config")
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, ServiceSettings)
            and value.__module__ == module.__name__
        ]
        assert len(classes) == 1, f"newswire_{name}.config must define one settings class"
        found[name] = classes[0]
    return found


SETTINGS = _service_settings()
NEWSWIRE_SERVICES = sorted(SETTINGS)
# A service has a store when its settings carry one: read from the code, so it cannot drift.
USES_STORE = {name for name, settings in SETTINGS.items() if issubclass(settings, StoreSettings)}
PYTHON_IMAGE = "python:3.11-slim"
UV_IMAGE = "ghcr.io/astral-sh/uv:"
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}
_INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@cache
def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _service(name: str) -> dict[str, Any]:
    return _compose()["services"][name]


def _environment(name: str) -> dict[str, str]:
    env = _service(name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def _interpolate(value: str) -> str:
    """What compose would substitute, with defaults applied and required values stubbed."""

    def one(match: re.Match[str]) -> str:
        op, arg = match["op"] or "", match["arg"] or ""
        return arg if op.endswith("-") else "compose-test-value"

    return _INTERPOLATION.sub(one, value)


def _env_names(settings: type[ServiceSettings]) -> dict[str, str]:
    """Environment variable name (upper case) -> field name, as pydantic-settings reads them."""
    prefix = settings.model_config.get("env_prefix", "")
    names: dict[str, str] = {}
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if alias is None:
            names[f"{prefix}{field_name}".upper()] = field_name
        elif isinstance(alias, AliasChoices):
            names.update({c.upper(): field_name for c in alias.choices if isinstance(c, str)})
        elif isinstance(alias, str):
            names[alias.upper()] = field_name
    return names


def _settings(name: str) -> ServiceSettings:
    """The service's settings as compose configures them, whatever this process's environment."""
    base = SETTINGS[name]

    class FromComposeOnly(base):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            **_: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings,)

    fields = _env_names(base)
    kwargs: dict[str, Any] = {}
    for key, value in _environment(name).items():
        if key.upper() not in fields:
            continue  # reported by test_every_environment_variable_is_a_setting
        field = base.model_fields[fields[key.upper()]]
        # Init arguments use the alias when the field has one, else the field name.
        kwargs[key if field.validation_alias else fields[key.upper()]] = _interpolate(value)
    return FromComposeOnly(**kwargs)


def _env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def _advertised_kafka() -> str:
    """host:port the broker tells clients to use."""
    env = _environment("kafka")
    return env["KAFKA_ADVERTISED_LISTENERS"].split("://", 1)[1]


@cache
def _scripts() -> dict[str, tuple[str, str]]:
    """Console script -> (service directory, 'module:attr') from services/*/pyproject.toml."""
    scripts: dict[str, tuple[str, str]] = {}
    for pyproject in sorted((ROOT / "services").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        for script, target in project.get("scripts", {}).items():
            scripts[script] = (pyproject.parent.name, target)
    return scripts


@cache
def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, args = line.partition(" ")
            pairs.append((instruction.upper(), args.strip()))
    return pairs


def _build_args() -> dict[str, str]:
    """The Dockerfile's global ARGs and their defaults."""
    pairs = _dockerfile()
    first_from = next(i for i, (instruction, _) in enumerate(pairs) if instruction == "FROM")
    args = [arg for instruction, arg in pairs[:first_from] if instruction == "ARG"]
    return dict(arg.split("=", 1) for arg in args)


def _stages() -> list[tuple[str, str]]:
    """(image, stage name) for each FROM, with build arguments at their defaults."""
    defaults = _build_args()
    stages = []
    for instruction, args in _dockerfile():
        if instruction == "FROM":
            args = re.sub(r"\$\{(\w+)\}", lambda match: defaults[match[1]], args)
            image, *rest = args.split()
            named = len(rest) == 2 and rest[0].upper() == "AS"
            stages.append((image, rest[1] if named else ""))
    return stages


def _final_stage() -> list[tuple[str, str]]:
    pairs = _dockerfile()
    last_from = max(i for i, (instruction, _) in enumerate(pairs) if instruction == "FROM")
    return pairs[last_from:]


@pytest.mark.unit
def test_compose_parses_and_has_every_service() -> None:
    services = _compose()["services"]
    assert {"kafka", "mongodb", *NEWSWIRE_SERVICES} <= set(services)


@pytest.mark.unit
@pytest.mark.parametrize("name", NEWSWIRE_SERVICES)
def test_service_command_is_its_own_entry_point(name: str) -> None:
    command = _service(name).get("command")
    assert command, f"{name} needs a command: the image's CMD runs no service"
    argv = shlex.split(command) if isinstance(command, str) else command
    scripts = _scripts()
    assert argv[0] in scripts, f"{name}: {argv[0]!r} is not a console script of any service"
    directory, target = scripts[argv[0]]
    assert directory == name, f"{name} runs {argv[0]}, the entry point of services/{directory}"
    module_name, _, attr = target.partition(":")
    assert callable(getattr(importlib.import_module(module_name), attr, None)), target


@pytest.mark.unit
@pytest.mark.parametrize("name", NEWSWIRE_SERVICES)
def test_every_environment_variable_is_a_setting(name: str) -> None:
    known = _env_names(SETTINGS[name])
    unknown = sorted(key for key in _environment(name) if key.upper() not in known)
    assert not unknown, f"{name}: {unknown} match no field of {SETTINGS[name].__name__}"


@pytest.mark.unit
@pytest.mark.parametrize("name", NEWSWIRE_SERVICES)
def test_environment_values_are_valid_and_reach_the_network(name: str) -> None:
    settings = _settings(name)  # raises if a value does not validate
    assert ipaddress.ip_address(settings.http_host).is_unspecified, "must bind all interfaces"
    assert settings.kafka_bootstrap_servers == _advertised_kafka()
    if name in USES_STORE:
        assert isinstance(settings, StoreSettings)
        assert "MONGODB_URL" in _environment(name), f"{name} keeps collections: it needs the store"
        assert "//mongodb:" in settings.mongodb_url
    else:
        assert "MONGODB_URL" not in _environment(name), f"{name} has no store setting"


@pytest.mark.unit
@pytest.mark.parametrize("name", NEWSWIRE_SERVICES)
def test_healthcheck_probes_readyz_on_the_service_port(name: str) -> None:
    test = _service(name)["healthcheck"]["test"]
    probe = " ".join(test) if isinstance(test, list) else test
    assert f"127.0.0.1:{_settings(name).http_port}/readyz" in probe


@pytest.mark.unit
@pytest.mark.parametrize("name", ["kafka", "mongodb", *NEWSWIRE_SERVICES])
def test_every_service_has_a_healthcheck_and_restart_policy(name: str) -> None:
    service = _service(name)
    test = service.get("healthcheck", {}).get("test")
    assert test, f"{name} has no healthcheck"
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"}
    assert service.get("restart") in {"always", "unless-stopped"}


@pytest.mark.unit
@pytest.mark.parametrize("name", NEWSWIRE_SERVICES)
def test_services_wait_for_healthy_dependencies(name: str) -> None:
    depends_on = _service(name).get("depends_on")
    assert isinstance(depends_on, dict), "use the long form, with conditions"
    expected = {"kafka", "mongodb"} if name in USES_STORE else {"kafka"}
    assert set(depends_on) == expected
    for dependency, spec in depends_on.items():
        assert spec.get("condition") == "service_healthy", dependency


@pytest.mark.unit
def test_gateway_api_keys_come_from_the_operator() -> None:
    value = _environment("gateway")["NEWSWIRE_API_KEYS"]
    # ${NEWSWIRE_API_KEYS:?...}: compose refuses to start when it is unset or empty.
    assert re.fullmatch(r"\$\{NEWSWIRE_API_KEYS:\?[^}]+\}", value), value
    for name in NEWSWIRE_SERVICES:
        if name != "gateway":
            assert "NEWSWIRE_API_KEYS" not in _environment(name)
    example = _env_example()
    assert example.get("NEWSWIRE_API_KEYS") == "", ".env.example must not ship a usable key"


@pytest.mark.unit
def test_gateway_publishes_its_api_port_on_loopback_by_default() -> None:
    ports = [_interpolate(str(port)) for port in _service("gateway")["ports"]]
    assert [port.rsplit(":", 1)[-1] for port in ports] == [str(_settings("gateway").http_port)]
    assert all(port.startswith("127.0.0.1:") for port in ports), ports
    # Only the gateway is published: the broker, the store and /metrics stay inside.
    published = [name for name, service in _compose()["services"].items() if service.get("ports")]
    assert published == ["gateway"]


@pytest.mark.unit
def test_every_compose_variable_is_documented_in_env_example() -> None:
    used = set(_INTERPOLATION.findall((ROOT / "compose.yaml").read_text()))
    names = {name for name, _, _ in used}
    assert names <= set(_env_example()), sorted(names - set(_env_example()))


def _default(value: str) -> str:
    """The default of a ``${VAR:-default}`` value (what operators get unless they override)."""
    match = _INTERPOLATION.fullmatch(value)
    assert match, f"{value!r} should be ${{VARIABLE:-default}}"
    assert match["op"] == ":-", f"{value!r} should be ${{VARIABLE:-default}}"
    return match["arg"]


@pytest.mark.unit
def test_stores_and_brokers_are_the_official_images_by_default() -> None:
    # The same Kafka release as the local stack the tests run, overridable for stand-ins.
    kafka_version = DevstackSettings.model_fields["kafka_version"].default
    assert _default(_service("kafka")["image"]) == f"apache/kafka:{kafka_version}"
    assert _default(_service("mongodb")["image"]) == "mongo:8"
    assert "KAFKA_IMAGE" in _service("kafka")["image"]
    assert "MONGODB_IMAGE" in _service("mongodb")["image"]


@pytest.mark.unit
def test_kafka_matches_what_the_services_expect() -> None:
    kafka = _service("kafka")
    env = _environment("kafka")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_LOG_DIRS"] in {volume.split(":", 1)[1] for volume in kafka["volumes"]}
    # Room for the largest message a service produces, plus the dead-letter envelope.
    largest = ServiceSettings.model_fields["kafka_max_message_bytes"].default
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) >= largest + 64 * 1024


@pytest.mark.unit
def test_base_images_are_build_arguments_that_compose_passes() -> None:
    assert set(_build_args()) == {"PYTHON_IMAGE", "UV_IMAGE"}
    args = _service("gateway")["build"]["args"]
    assert set(args) == set(_build_args())
    # Unless overridden, compose builds from the same official images as a plain docker build.
    assert {name: _default(value) for name, value in args.items()} == _build_args()
    # The services share one image, built once from one definition.
    assert len({str(_service(name).get("build")) for name in NEWSWIRE_SERVICES}) == 1


@pytest.mark.unit
def test_the_image_builds_with_the_uv_the_makefile_installs() -> None:
    # The same uv resolves the lock in both, and the uv stand-in is copied from the Makefile's.
    makefile = (ROOT / "Makefile").read_text()
    version = re.search(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert version, "the Makefile pins UV_VERSION"
    assert _build_args()["UV_IMAGE"] == f"{UV_IMAGE}{version[1]}"


@pytest.mark.unit
def test_dockerfile_builds_with_the_locked_environment() -> None:
    # No `# syntax=` line: it makes BuildKit pull a frontend image before every build.
    assert not (ROOT / "Dockerfile").read_text().startswith("# syntax")
    stages = _stages()
    assert stages[-1][0] == PYTHON_IMAGE, "the runtime stage"
    assert (PYTHON_IMAGE, "builder") in stages
    uv_images = [image for image, _ in stages if image.startswith(UV_IMAGE)]
    assert all(image == PYTHON_IMAGE for image, _ in stages if image not in uv_images)
    # uv itself is pinned, so a rebuild resolves the lock the same way.
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", image.removeprefix(UV_IMAGE)) for image in uv_images)

    runs = [args for instruction, args in _dockerfile() if instruction == "RUN"]
    syncs = [args for args in runs if "uv sync" in args]
    assert len(syncs) == 2, syncs
    assert all("uv sync --locked" in args and "--no-dev" in args for args in syncs)
    assert "--no-install-workspace" in syncs[0]
    assert "--no-editable" in syncs[1]


@pytest.mark.unit
def test_dockerfile_copies_every_workspace_member_before_the_dependency_layer() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = [
        path.relative_to(ROOT).as_posix()
        for pattern in root["tool"]["uv"]["workspace"]["members"]
        for path in sorted(ROOT.glob(pattern))
        if (path / "pyproject.toml").is_file()
    ]
    pairs = _dockerfile()
    first_sync = next(i for i, (ins, arg) in enumerate(pairs) if ins == "RUN" and "uv sync" in arg)
    copied = " ".join(args for ins, args in pairs[:first_sync] if ins == "COPY")
    missing = [m for m in members if f"{m}/pyproject.toml" not in copied]
    assert not missing, f"uv sync --locked fails without these members' pyproject.toml: {missing}"


@pytest.mark.unit
def test_runtime_image_runs_as_a_user_from_the_venv() -> None:
    final = _final_stage()
    users = [args for instruction, args in final if instruction == "USER"]
    assert users, "the runtime stage must set USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    copies = [args for instruction, args in final if instruction == "COPY"]
    assert copies == ["--from=builder /app/.venv /app/.venv"], "only the venv is shipped"
    env = " ".join(args for instruction, args in final if instruction == "ENV")
    assert "PATH=/app/.venv/bin:$PATH" in env
    assert "PYTHONUNBUFFERED=1" in env


@pytest.mark.unit
def test_dockerignore_keeps_secrets_and_local_state_out_of_the_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".env", ".git", ".venv", ".local", "bench/results", "test-results"} <= ignored
