"""Google's generated client (google-api-python-client) over HTTPS to a node with a throw-away CA,
as a scoped client: what its scope grants answers, the rest is a 403 the client decodes with
the client's name and the missing permission. And the node's one table of permissions
(node/src/api/permissions.rs) maps every method of Google's discovery document."""

from __future__ import annotations

import json
import re
import ssl
from pathlib import Path
from typing import Iterator

import httplib2
import pytest
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

import node_services
from control_plane import Pki
from node_services import CONNECTION, REPO, TOKEN, BearerHttp

DOC = node_services.discovery()
NAME = f"projects/p1/locations/us-central1/connections/{CONNECTION}"
READER_TOKEN = "reader-token-for-google-client-77"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"), "google-client-test-ca")


@pytest.fixture(scope="module")
def node(pki, tmp_path_factory) -> Iterator[node_services.Running]:
    cert, key = pki.issue("node", "127.0.0.1", hosts=("127.0.0.1",), client=False)
    tokens = tmp_path_factory.mktemp("tokens")
    (tokens / "reader").write_text(READER_TOKEN)
    clients = [{"name": "reader", "tokenFile": str(tokens / "reader"), "allow": {"entities": {"Customer": ["LIST", "GET"]}}}]
    yield from node_services.start(
        ["--tls-cert-file", str(cert), "--tls-key-file", str(key), "--clients", json.dumps(clients)], https=True
    )


def connections(node, token: str, ca: Path):
    client = build_from_document(DOC, http=BearerHttp(token, ca), client_options={"api_endpoint": node.url + "/"})
    return client.projects().locations().connections()


def test_the_google_client_works_over_https_and_is_refused_outside_its_scope(node, pki):
    assert node.url.startswith("https://")
    admin = connections(node, TOKEN, pki.cert)
    created = admin.entityTypes().entities().create(parent=f"{NAME}/entityTypes/Customer", body={"fields": {"Email": "tls@example.com"}}).execute()
    customer = created["fields"]["Id"]

    reader = connections(node, READER_TOKEN, pki.cert)
    got = reader.entityTypes().entities().get(name=f"{NAME}/entityTypes/Customer/entities/{customer}").execute()
    assert got["fields"]["Email"] == "tls@example.com"
    assert reader.checkStatus(name=NAME).execute()["state"] == "ACTIVE"

    with pytest.raises(HttpError) as refused:
        reader.entityTypes().entities().delete(name=f"{NAME}/entityTypes/Customer/entities/{customer}").execute()
    assert refused.value.resp.status == 403
    error = json.loads(refused.value.content)["error"]
    assert error["status"] == "PERMISSION_DENIED"
    (info,) = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"]
    assert info["metadata"] == {"client": "reader", "permission": "Customer: DELETE"}
    with pytest.raises(HttpError) as refused:
        reader.actions().execute(name=f"{NAME}/actions/FinalizeInvoice", body={"parameters": {"InvoiceId": "in_1"}}).execute()
    assert refused.value.resp.status == 403

    # A client that does not trust the node's CA gets no answer at all.
    with pytest.raises(ssl.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting = build_from_document(DOC, http=httplib2.Http(), client_options={"api_endpoint": node.url + "/"})
        untrusting.projects().locations().connections().checkReadiness(name=NAME).execute()


def discovery_methods() -> set[str]:
    def walk(resource: dict, prefix: str) -> Iterator[str]:
        for name in resource.get("methods", {}):
            yield f"{prefix}{name}"
        for name, sub in resource.get("resources", {}).items():
            yield from walk(sub, f"{prefix}{name}.")

    connection = DOC["resources"]["projects"]["resources"]["locations"]["resources"]["connections"]
    return set(walk(connection, ""))


def test_every_method_of_the_document_has_a_permission_in_the_node_s_table():
    table = (REPO / "node" / "src" / "api" / "permissions.rs").read_text()
    methods = table.split("pub const METHODS")[1].split("];")[0]
    mapped = set(re.findall(r'\(\s*"([A-Za-z.]+)",\s*Need::', methods))
    assert discovery_methods() - mapped == set()
    assert mapped - discovery_methods() == {"openapi"}
