"""The chart-managed Redis's start command, run for real with redis-server (paths moved into a
temporary directory, a free loopback port added): it requires the password from the mounted
file, and the password shows neither in its argv nor in its environment."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import time

import pytest

from support import documents, render

PASSWORD = "d3adb33fc0ffee0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_command(values: dict) -> list[str]:
    (deployment,) = [
        d for d in documents(render(values)) if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-redis")
    ]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container["command"]


def cli(port: int, *args: str, password: str | None = None) -> str:
    env = {"PATH": os.environ["PATH"]}
    if password:
        env["REDISCLI_AUTH"] = password
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True, text=True, env=env, timeout=10
    )
    return result.stdout.strip()


@pytest.fixture
def started(tmp_path):
    processes = []

    def start(command: list[str], extra: list[str]) -> subprocess.Popen:
        if command[:2] == ["sh", "-c"]:
            script = (
                command[2]
                .replace("/var/run/redis-password/password", str(tmp_path / "password"))
                .replace("/run/redis/auth.conf", str(tmp_path / "auth.conf"))
            )
            argv = ["sh", "-c", script + " " + " ".join(extra)]
        else:
            argv = command + extra
        process = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def wait_until_listening(port: int, process: subprocess.Popen) -> None:
    for _ in range(100):  # bounded: at most ~10 s
        assert process.poll() is None, "redis-server exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("redis-server did not listen")


@pytest.fixture(autouse=True)
def need_redis():
    assert shutil.which("redis-server") and shutil.which("redis-cli"), "run scripts/install-test-deps.sh"


def test_managed_redis_requires_the_mounted_password(tmp_path, started):
    (tmp_path / "password").write_text(PASSWORD)
    port = free_port()
    command = redis_command({"redis": {"auth": {"existingSecret": "limiter-redis"}}})
    process = started(command, ["--port", str(port), "--bind", "127.0.0.1"])
    wait_until_listening(port, process)

    assert cli(port, "PING").startswith("NOAUTH")
    assert cli(port, "PING", password="wrong") != "PONG"
    assert cli(port, "PING", password=PASSWORD) == "PONG"
    assert cli(port, "CONFIG", "GET", "save", password=PASSWORD) == "save"  # empty value: no snapshots
    assert cli(port, "CONFIG", "GET", "appendonly", password=PASSWORD).splitlines() == ["appendonly", "no"]

    # `exec` made redis-server the process itself; the secret is in neither argv nor environment.
    cmdline = open(f"/proc/{process.pid}/cmdline", "rb").read()
    assert b"redis-server" in cmdline and PASSWORD.encode() not in cmdline
    assert PASSWORD.encode() not in open(f"/proc/{process.pid}/environ", "rb").read()
    assert stat.S_IMODE((tmp_path / "auth.conf").stat().st_mode) == 0o600


def test_managed_redis_without_password(started):
    port = free_port()
    command = redis_command({})
    assert command[0] == "redis-server"
    process = started(command, ["--port", str(port), "--bind", "127.0.0.1"])
    wait_until_listening(port, process)
    assert cli(port, "PING") == "PONG"
    assert cli(port, "CONFIG", "GET", "maxmemory-policy").splitlines() == ["maxmemory-policy", "allkeys-lru"]
    assert cli(port, "CONFIG", "GET", "maxmemory").splitlines() == ["maxmemory", str(64 * 1024 * 1024)]
