"""A connector node in front of the project's Stripe fake, as real processes on loopback ports,
for the tests with Google's client library and schemathesis. The binaries are the workspace's
own (`cargo build --workspace --bins`, which make test runs first)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import googleapiclient
import httplib2

from control_plane import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
CONNECTION = "e2e"
TOKEN = "client-token-0123456789"
# Google's discovery document of the v2 runtime API, as shipped in google-api-python-client.
DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "connectors.v2.json"


class BearerHttp(httplib2.Http):
    """httplib2 sending a static bearer token (a client's token), trusting `ca` when given."""

    def __init__(self, token: str, ca: Path | None = None) -> None:
        super().__init__(ca_certs=str(ca) if ca else None)
        self.token = token

    def request(self, uri, method="GET", body=None, headers=None, **kwargs):  # noqa: ANN001
        headers = dict(headers or {})
        headers["authorization"] = f"Bearer {self.token}"
        return super().request(uri, method, body, headers, **kwargs)


def binary(name: str) -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "debug" / name
    assert path.exists(), f"{path} is missing: run cargo build --workspace --bins (make test does)"
    return path


@dataclass
class Running:
    url: str
    fake_url: str


def discovery() -> dict[str, Any]:
    return json.loads(DISCOVERY.read_text())


def start(extra_args: list[str] | None = None, https: bool = False) -> Iterator[Running]:
    """Starts the Stripe fake and a node with a client token; yields their URLs (https when the
    extra arguments give the node a certificate); stops both."""
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            fake_port = free_port()
            fake = subprocess.Popen([binary("stripe-fake"), "--port", str(fake_port)], stdin=subprocess.DEVNULL)
            processes.append(fake)
            wait_for_port(fake_port, fake, "stripe-fake")
            key = Path(tmp) / "key"
            key.write_text("sk_test_google_client")
            token = Path(tmp) / "token"
            token.write_text(TOKEN)
            port, admin = free_port(), free_port()
            node = subprocess.Popen(
                [
                    binary("stripe-node"),
                    "--listen", f"127.0.0.1:{port}",
                    "--admin-listen", f"127.0.0.1:{admin}",
                    "--connection-name", CONNECTION,
                    "--stripe-api-key-file", str(key),
                    "--client-token-file", str(token),
                    "--stripe-base-url", f"http://127.0.0.1:{fake_port}",
                    "--tps-per-node", "1000000",
                    "--stripe-retry-base-ms", "10",
                    "--log-level", "error",
                    *(extra_args or []),
                ],
                stdin=subprocess.DEVNULL,
                env={"PATH": os.environ.get("PATH", "")},
            )
            processes.append(node)
            wait_for_port(port, node, "stripe-node")
            scheme = "https" if https else "http"
            yield Running(url=f"{scheme}://127.0.0.1:{port}", fake_url=f"http://127.0.0.1:{fake_port}")
        finally:
            for p in processes:
                p.kill()
                p.wait()
