"""docker-compose.yml stays true: every service's command exists in this build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from adapters.registry import PLATFORMS

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _services() -> dict[str, dict[str, object]]:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = document["services"]
    assert isinstance(services, dict)
    return services


def test_compose_has_the_services_a_deployment_needs() -> None:
    assert {"postgres", "rabbitmq", "api", "consumer"} <= set(_services())
    assert "management" in str(_services()["rabbitmq"]["image"])


def test_every_compose_command_exists() -> None:
    for name, service in _services().items():
        command = service.get("command")
        if command is None:
            continue
        assert isinstance(command, list), f"{name}: write the command as a list"
        executable = shutil.which(str(command[0]), path=str(BIN)) or shutil.which(str(command[0]))
        assert executable, f"service {name}: {command[0]} is not installed"
        if command[0] == "pointsledger":
            # `pointsledger <group> <command> --help` exits 0 only if the command exists.
            completed = subprocess.run(
                [executable, *map(str, command[1:]), "--help"],
                capture_output=True, text=True, timeout=60, check=False,
            )
            assert completed.returncode == 0, f"service {name}: {command} → {completed.stderr}"
        if command[0] == "gunicorn":
            module, _, attribute = str(command[-1]).partition(":")
            completed = subprocess.run(
                [sys.executable, "-c", f"import {module}; {module}.{attribute}"],
                capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
                env={"PATH": str(BIN), "POINTSLEDGER_DATABASE_URL": "sqlite:///:memory:",
                     "POINTSLEDGER_RESIDENT_PEPPER": "compose-check-pepper-0123456789"},
            )
            assert completed.returncode == 0, f"service {name}: {command[-1]} → {completed.stderr}"


def test_dockerfile_installs_the_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install" in dockerfile
    for service in _services().values():
        if service.get("build"):
            assert service["build"] == "."


def test_each_platform_has_its_adapter_and_simulator_services() -> None:
    commands = [service.get("command") or [] for service in _services().values()]
    for platform in PLATFORMS:
        adapters = [command for command in commands
                    if command[:4] == ["pointsledger", "adapter", "run", platform]]
        simulators = [command for command in commands
                      if command[:3] == ["pointsledger", "simulate", platform]]
        assert len(adapters) == 1, f"no single adapter service for {platform}"
        assert len(simulators) == 1, f"no simulator service for {platform}"
        # The key file the adapter signs with is one of the compose secrets.
        key_file = adapters[0][adapters[0].index("--key-file") + 1]
        assert key_file.startswith("/run/secrets/")
        document = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
        assert key_file.removeprefix("/run/secrets/") in document["secrets"]


def _option(command: list[str], name: str) -> str:
    assert name in command, f"the api's gunicorn command sets no {name}"
    return str(command[command.index(name) + 1])


def test_the_api_bounds_how_long_and_how_large_a_request_may_be() -> None:
    api = _services()["api"]
    command = [str(part) for part in api["command"]]  # type: ignore[union-attr]
    assert command[0] == "gunicorn"
    assert 0 < int(_option(command, "--timeout")) <= 60
    graceful_s = int(_option(command, "--graceful-timeout"))
    assert graceful_s < int(str(api["stop_grace_period"]).removesuffix("s")), \
        "docker stops the container before gunicorn's workers may finish"
    assert int(_option(command, "--limit-request-line")) <= 4094
    assert int(_option(command, "--limit-request-fields")) <= 100
    assert int(_option(command, "--limit-request-field_size")) <= 8190
    assert _option(command, "--logger-class") == "ledger.api.gunicorn_logging.RedactingLogger"


def test_gunicorn_takes_the_api_command_as_written() -> None:
    command = [str(part) for part in _services()["api"]["command"]]  # type: ignore[union-attr]
    completed = subprocess.run(
        [str(BIN / "gunicorn"), "--check-config", *command[1:]],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
        env={"PATH": str(BIN), "POINTSLEDGER_DATABASE_URL": "sqlite:///:memory:",
             "POINTSLEDGER_RESIDENT_PEPPER": "compose-check-pepper-0123456789"},
    )
    assert completed.returncode == 0, completed.stderr


def test_every_repository_file_a_service_mounts_exists() -> None:
    # prometheus and grafana run their images' own entrypoints (no command to check above):
    # what they depend on from us is the files mounted into them.
    for name, service in _services().items():
        for volume in service.get("volumes", []):  # type: ignore[union-attr]
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"service {name} mounts {source}, which is missing"


def test_images_we_do_not_build_are_pinned() -> None:
    for name, service in _services().items():
        if not service.get("build"):
            image = str(service["image"])
            tag = image.rpartition(":")[2]
            assert ":" in image and tag != "latest", f"service {name}: pin {image} to a version"
