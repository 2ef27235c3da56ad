"""schemathesis against the node's own OpenAPI document (docs/openapi.json, generated from the
catalog): a bounded number of generated requests per operation, sent to a node in front of the
Stripe fake. No answer may be a 5xx, and every answer must conform to the document (status,
content type, schema)."""

from __future__ import annotations

from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import node_services
from node_services import CONNECTION, REPO, TOKEN

SCHEMA = schemathesis.openapi.from_path(REPO / "docs" / "openapi.json")
# Examples per operation: enough to reach each operation's errors and answers, few enough for
# the whole suite to stay within make test's budget.
EXAMPLES = 8


@pytest.fixture(scope="module")
def node() -> Iterator[node_services.Running]:
    yield from node_services.start()


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_node_answers_as_its_document_says(case, node):
    if "connection" in (case.path_parameters or {}):
        # Other connections are 404 (checked elsewhere); generated names would reach no method.
        case.path_parameters["connection"] = CONNECTION
    checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
    # The methods an API-key connection does not serve answer 501 UNIMPLEMENTED, as their
    # documented (and only) answer; every other method must never answer a 5xx.
    if "501" not in case.operation.definition.raw["responses"]:
        checks.append(not_a_server_error)
    case.call_and_validate(base_url=node.url, headers={"Authorization": f"Bearer {TOKEN}"}, checks=checks, timeout=30)
