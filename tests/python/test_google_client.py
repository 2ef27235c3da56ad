"""Google's own generated client (google-api-python-client with its bundled connectors v2
discovery document) pointed at a node with an endpoint override and nothing else: every method
of the document, Integration Connectors' Stripe connector examples, paging, conditions and
errors. Each answer is validated against the document's own schema of the method's response
(objects exactly as defined: no key the document does not name)."""

from __future__ import annotations

import json
from typing import Any, Iterator

import google.oauth2.credentials
import httplib2
import jsonschema
import pytest
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

import node_services
from node_services import CONNECTION, TOKEN, BearerHttp

DOC = node_services.discovery()
NAME = f"projects/p1/locations/us-central1/connections/{CONNECTION}"


def schema_of(node: dict[str, Any]) -> dict[str, Any]:
    """A discovery schema as JSON Schema; objects allow only the keys the document names."""
    if "$ref" in node:
        return {"$ref": f"#/$defs/{node['$ref']}"}
    kind = node.get("type")
    if kind == "object":
        out: dict[str, Any] = {"type": "object"}
        if "properties" in node:
            out["properties"] = {k: schema_of(v) for k, v in node["properties"].items()}
        out["additionalProperties"] = schema_of(node["additionalProperties"]) if "additionalProperties" in node else False
        return out
    if kind == "array":
        return {"type": "array", "items": schema_of(node.get("items", {}))}
    if kind in ("string", "integer", "number", "boolean"):
        out = {"type": kind}
        if "enum" in node:
            out["enum"] = node["enum"]
        return out
    return {}


DEFS = {name: schema_of(s) for name, s in DOC["schemas"].items()}


def methods(resource: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, method in resource.get("methods", {}).items():
        yield f"{prefix}.{name}", method
    for name, sub in resource.get("resources", {}).items():
        yield from methods(sub, f"{prefix}.{name}")


METHODS = dict(methods(DOC["resources"]["projects"], "projects"))
RESPONSE = {mid: m.get("response", {}).get("$ref") for mid, m in METHODS.items()}
called: set[str] = set()


def validated(method_id: str, answer: Any) -> Any:
    """The answer, after checking it against the document's response schema of the method."""
    called.add(method_id)
    ref = RESPONSE[method_id]
    jsonschema.Draft202012Validator({"$defs": DEFS, "$ref": f"#/$defs/{ref}"}).validate(answer)
    return answer


@pytest.fixture(scope="module")
def node() -> Iterator[node_services.Running]:
    yield from node_services.start()


def client(node: node_services.Running, http: httplib2.Http | None = None):
    options = {"api_endpoint": node.url + "/"}
    if http is None:
        # OAuth-style: google-auth credentials holding the client token as the access token.
        creds = google.oauth2.credentials.Credentials(token=TOKEN)
        return build_from_document(DOC, credentials=creds, client_options=options)
    return build_from_document(DOC, http=http, client_options=options)


@pytest.fixture(scope="module")
def conn(node):
    return client(node).projects().locations().connections()


def error_of(e: HttpError) -> dict[str, Any]:
    body = json.loads(e.content)
    error = body["error"]
    assert error["code"] == e.resp.status, body
    assert isinstance(error["status"], str) and error["message"], body
    assert all("@type" in d for d in error["details"]), body
    return error


def violated_field(error: dict[str, Any]) -> str:
    (bad,) = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    return bad["fieldViolations"][0]["field"]


def test_connection_methods(conn, node):
    assert validated("projects.locations.connections.checkReadiness", conn.checkReadiness(name=NAME).execute()) == {"status": "READY"}
    status = validated("projects.locations.connections.checkStatus", conn.checkStatus(name=NAME).execute())
    assert status["state"] == "ACTIVE", status
    for method in ("exchangeAuthCode", "refreshAccessToken"):
        with pytest.raises(HttpError) as e:
            getattr(conn, method)(name=NAME, body={}).execute()
        error = error_of(e.value)
        assert (e.value.resp.status, error["status"]) == (501, "UNIMPLEMENTED")
        assert "API key" in error["message"]
        called.add(f"projects.locations.connections.{method}")
    resources = conn.resources()
    for method, call in [
        ("list", lambda: resources.list(parent=NAME)),
        ("get", lambda: resources.get(name=f"{NAME}/resources/r1")),
        ("getResourcePost", lambda: resources.getResourcePost(name=f"{NAME}/resources/r1", body={})),
    ]:
        with pytest.raises(HttpError) as e:
            call().execute()
        assert error_of(e.value)["status"] == "UNIMPLEMENTED"
        called.add(f"projects.locations.connections.resources.{method}")


def test_entity_types_and_actions_metadata_with_paging(conn):
    types = conn.entityTypes()
    seen, token = [], None
    while True:
        page = validated("projects.locations.connections.entityTypes.list", types.list(parent=NAME, pageSize=5, pageToken=token).execute())
        seen += [t["name"] for t in page["types"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert {"Customer", "PaymentIntent", "Quote", "Invoice"} <= set(seen)
    assert len(seen) == len(set(seen))
    customer = validated("projects.locations.connections.entityTypes.get", types.get(name=f"{NAME}/entityTypes/Customer", view="ENTITY_TYPE_SCHEMA_VIEW_ENRICHED").execute())
    assert customer["operations"] == ["LIST", "GET", "CREATE", "UPDATE", "DELETE"]
    email = next(f for f in customer["fields"] if f["name"] == "Email")
    assert email["dataType"] == "VARCHAR" and email["additionalDetails"]["pushedDownOperators"] == ["=", "IN"]
    actions = conn.actions()
    basic = validated("projects.locations.connections.actions.list", actions.list(parent=NAME, view="ACTION_VIEW_BASIC").execute())
    assert "ConfirmPaymentIntent" in [a["name"] for a in basic["actions"]]
    confirm = validated("projects.locations.connections.actions.get", actions.get(name=f"{NAME}/actions/ConfirmPaymentIntent").execute())
    assert [p["name"] for p in confirm["inputParameters"]][:2] == ["PaymentIntentId", "ReturnUrl"]


def create(conn, entity: str, fields: dict[str, Any]) -> str:
    answer = validated(
        "projects.locations.connections.entityTypes.entities.create",
        conn.entityTypes().entities().create(parent=f"{NAME}/entityTypes/{entity}", body={"fields": fields}).execute(),
    )
    assert list(answer["fields"]) == ["Id"], answer
    assert answer["name"] == f"{NAME}/entityTypes/{entity}/entities/{answer['fields']['Id']}"
    return answer["fields"]["Id"]


def execute(conn, action: str, parameters: dict[str, Any]) -> dict[str, Any]:
    answer = validated(
        "projects.locations.connections.actions.execute",
        conn.actions().execute(name=f"{NAME}/actions/{action}", body={"parameters": parameters}).execute(),
    )
    (result,) = answer["results"]
    assert result["Success"] == "true", answer
    assert all(v is None or isinstance(v, str) for v in result.values()), result
    return result


def test_the_connector_s_documented_examples(conn):
    # Entities: create a PaymentIntent with the documented payload, list, get, update, delete.
    pi = create(conn, "PaymentIntent", {"PaymentMethod": "pm_1OXN5YANHgX3SHp7Q5Y0rb39", "Currency": "usd", "Amount": 1500.0})
    assert pi.startswith("pi_")
    entities = conn.entityTypes().entities()
    customer = create(conn, "Customer", {"Name": "Jane"})
    listed = validated("projects.locations.connections.entityTypes.entities.list", entities.list(parent=f"{NAME}/entityTypes/Customer").execute())
    assert customer in [e["fields"]["Id"] for e in listed["entities"]]
    path = f"{NAME}/entityTypes/Customer/entities/{customer}"
    got = validated("projects.locations.connections.entityTypes.entities.get", entities.get(name=path).execute())
    assert got["fields"]["Name"] == "Jane"
    updated = validated("projects.locations.connections.entityTypes.entities.patch", entities.patch(name=path, body={"fields": {"Name": "John"}}).execute())
    assert updated["fields"] == {"Id": customer}
    assert entities.get(name=path).execute()["fields"]["Name"] == "John"

    # Actions, with the documented parameters.
    intent = create(conn, "PaymentIntent", {"PaymentMethod": "pm_card_visa", "Currency": "usd", "Amount": 33000, "CaptureMethod": "automatic"})
    confirmed = execute(conn, "ConfirmPaymentIntent", {"ReturnUrl": "http://google.com/", "PaymentIntentId": intent})
    assert (confirmed["id"], confirmed["status"], confirmed["amount"]) == (intent, "succeeded", "33000")
    assert "payment_method_options.card.installments" in confirmed
    manual = create(conn, "PaymentIntent", {"PaymentMethod": "pm_card_visa", "Currency": "usd", "Amount": 33000, "CaptureMethod": "manual", "Customer": customer})
    assert execute(conn, "ConfirmPaymentIntent", {"PaymentIntentId": manual})["status"] == "requires_capture"
    assert execute(conn, "CapturePaymentIntent", {"PaymentIntentId": manual})["status"] == "succeeded"
    other = create(conn, "PaymentIntent", {"PaymentMethod": "pm_card_visa", "Currency": "usd", "Amount": 33000, "CaptureMethod": "manual", "Customer": customer})
    execute(conn, "ConfirmPaymentIntent", {"PaymentIntentId": other})
    assert execute(conn, "CancelPaymentIntent", {"PaymentIntentId": other})["status"] == "canceled"
    pm = create(conn, "PaymentMethod", {"Type": "card", "Card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    assert execute(conn, "AttachPaymentMethodToCustomer", {"PaymentMethodId": pm, "CustomerId": customer}) == {"Success": "true"}
    assert execute(conn, "DetachPaymentMethodFromCustomer", {"PaymentMethodId": pm}) == {"Success": "true"}
    invoice = create(conn, "Invoice", {"Customer": customer})
    assert execute(conn, "FinalizeInvoice", {"InvoiceId": invoice})["id"] == invoice
    quote = create(conn, "Quote", {"Customer": customer, "LineItems": [{"price": "price_seed", "quantity": 2}]})
    assert execute(conn, "FinalizeQuote", {"QuoteId": quote}) == {"Success": "true"}
    accepted = execute(conn, "AcceptQuote", {"QuoteId": quote})
    assert list(accepted) == ["InvoiceId", "Success"] and accepted["InvoiceId"].startswith("in_")
    draft = create(conn, "Quote", {"Customer": customer, "LineItems": [{"price": "price_seed", "quantity": 1}]})
    assert execute(conn, "CancelQuote", {"QuoteId": draft}) == {"Success": "true"}

    assert validated("projects.locations.connections.entityTypes.entities.delete", entities.delete(name=path).execute()) == {}
    with pytest.raises(HttpError) as e:
        entities.get(name=path).execute()
    assert error_of(e.value)["status"] == "NOT_FOUND"


def test_paging_conditions_and_bulk_methods(conn):
    entities = conn.entityTypes().entities()
    parent = f"{NAME}/entityTypes/Customer"
    ids = {create(conn, "Customer", {"Name": "Paged", "Email": f"paged{i}@example.com"}) for i in range(5)}
    seen, token = [], None
    while True:
        page = validated("projects.locations.connections.entityTypes.entities.list", entities.list(parent=parent, conditions="Name = 'Paged'", pageSize=2, pageToken=token, sortBy=["Email"], sortOrder=["DESC"]).execute())
        assert len(page["entities"]) <= 2
        seen += [e["fields"]["Id"] for e in page["entities"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    one = entities.list(parent=parent, conditions="Email = 'paged3@example.com'").execute()
    assert [e["fields"]["Email"] for e in one["entities"]] == ["paged3@example.com"]
    # Partial responses with Google's `fields` system parameter.
    partial = entities.list(parent=parent, conditions="Name = 'Paged'", fields="entities/fields/Id").execute()
    assert all(list(e) == ["fields"] and list(e["fields"]) == ["Id"] for e in partial["entities"]), partial
    bulk = validated(
        "projects.locations.connections.entityTypes.entities.updateEntitiesWithConditions",
        entities.updateEntitiesWithConditions(entityType=parent, conditions="Name = 'Paged'", body={"fields": {"Description": "bulk"}}).execute(),
    )
    assert bulk["response"]["updatedCount"] == 5
    assert validated(
        "projects.locations.connections.entityTypes.entities.deleteEntitiesWithConditions",
        entities.deleteEntitiesWithConditions(entityType=parent, conditions="Description = 'bulk'").execute(),
    ) == {}
    assert entities.list(parent=parent, conditions="Name = 'Paged'").execute().get("entities", []) == []


def test_a_child_is_read_and_deleted_by_the_entity_id_list_answers(conn):
    entities = conn.entityTypes().entities()
    customer = create(conn, "Customer", {"Name": "Taxed"})
    parent = f"{NAME}/entityTypes/TaxId"
    fields = {"Customer": customer, "Type": "eu_vat", "Value": "DE123456789"}
    created = validated("projects.locations.connections.entityTypes.entities.create", entities.create(parent=parent, body={"fields": fields}).execute())
    listed = validated("projects.locations.connections.entityTypes.entities.list", entities.list(parent=parent, conditions=f"Customer = '{customer}'").execute())
    (entity,) = listed["entities"]
    assert entity["name"] == created["name"] == f"{parent}/entities/{customer},{created['fields']['Id']}", (entity, created)
    got = validated("projects.locations.connections.entityTypes.entities.get", entities.get(name=entity["name"]).execute())
    assert (got["fields"]["Value"], got["fields"]["Customer"]) == ("DE123456789", customer)
    assert validated("projects.locations.connections.entityTypes.entities.delete", entities.delete(name=entity["name"]).execute()) == {}
    # The child's own id without its parent's names the form the node expects.
    with pytest.raises(HttpError) as e:
        entities.get(name=f"{parent}/entities/{created['fields']['Id']}").execute()
    error = error_of(e.value)
    assert (e.value.resp.status, violated_field(error)) == (400, "entityId"), error
    assert "'<Customer id>,<TaxId id>'" in error["message"], error


def test_sql_raw_requests_and_tools(conn, node):
    email = "sql@example.com"
    customer = create(conn, "Customer", {"Name": "Sequel", "Email": email})
    rows = validated(
        "projects.locations.connections.executeSqlQuery",
        conn.executeSqlQuery(connection=NAME, body={"query": {"query": "SELECT Id, Name AS who FROM Customer WHERE Email = ? LIMIT 5", "queryParameters": [{"dataType": "VARCHAR", "value": email}]}}).execute(),
    )
    assert rows["results"] == [{"Id": customer, "who": "Sequel"}]
    raw = validated(
        "projects.locations.connections.executeHttpRequest",
        conn.executeHttpRequest(name=NAME, body={"httpMethod": "HTTP_METHOD_GET", "url": f"{node.fake_url}/v1/customers/{customer}"}).execute(),
    )
    assert raw["statusCode"] == 200
    import base64

    assert json.loads(base64.b64decode(raw["body"]))["email"] == email
    with pytest.raises(HttpError) as e:
        conn.executeHttpRequest(name=NAME, body={"httpMethod": "HTTP_METHOD_GET", "url": "https://example.com/v1/customers"}).execute()
    assert violated_field(error_of(e.value)) == "url"

    tools = validated("projects.locations.connections.tools.list", conn.tools().list(parent=NAME, toolNames=["GetCustomer", "FinalizeQuote"]).execute())
    assert sorted(t["name"] for t in tools["tools"]) == ["FinalizeQuote", "GetCustomer"]
    # The document's method `connections.tools` (POST .../tools) shares its name with the
    # resource `connections.tools`, and the generated Python client exposes only the resource;
    # the method is called at its documented path with the same token.
    method = METHODS["projects.locations.connections.tools"]
    assert method["httpMethod"] == "POST" and method["path"] == "v2/{+parent}/tools"
    response, content = BearerHttp(TOKEN).request(
        f"{node.url}/v2/{NAME}/tools", "POST", json.dumps({"pageSize": 3}), {"content-type": "application/json"}
    )
    assert response.status == 200, content
    posted = validated("projects.locations.connections.tools", json.loads(content))
    assert len(posted["tools"]) == 3 and posted["nextPageToken"]
    ran = validated("projects.locations.connections.tools.execute", conn.tools().execute(name=f"{NAME}/tools/GetCustomer", body={"parameters": {"id": customer}}).execute())
    assert ran["result"]["fields"]["Email"] == email
    names = validated("projects.locations.connections.listCustomToolNames", conn.listCustomToolNames(name=NAME).execute())
    assert {"name": "ListCustomer", "entityName": "Customer", "operation": "LIST"} in names["toolNames"]
    spec = validated("projects.locations.connections.generateConnectionToolspecOverride", conn.generateConnectionToolspecOverride(name=NAME, body={"toolNames": [{"name": "GetCustomer"}]}).execute())
    assert [t["name"] for t in spec["toolSpec"]["toolDefinitions"]] == ["GetCustomer"]


def test_errors_are_status_objects_the_client_raises(conn, node):
    entities = conn.entityTypes().entities()
    with pytest.raises(HttpError) as e:
        entities.list(parent=f"{NAME}/entityTypes/Nope").execute()
    assert (e.value.resp.status, error_of(e.value)["status"]) == (404, "NOT_FOUND")
    with pytest.raises(HttpError) as e:
        entities.list(parent=f"{NAME}/entityTypes/Customer", conditions="Livemode = 'yes'").execute()
    error = error_of(e.value)
    assert (e.value.resp.status, error["status"], violated_field(error)) == (400, "INVALID_ARGUMENT", "conditions.Livemode")
    with pytest.raises(HttpError) as e:
        entities.list(parent=f"projects/p/locations/l/connections/another/entityTypes/Customer").execute()
    assert error_of(e.value)["status"] == "NOT_FOUND"
    with pytest.raises(HttpError) as e:
        conn.actions().execute(name=f"{NAME}/actions/FinalizeQuote", body={"parameters": {}}).execute()
    assert violated_field(error_of(e.value)) == "QuoteId"
    # A Stripe card decline: ErrorInfo with Stripe's code as the reason.
    intent = create(conn, "PaymentIntent", {"Amount": 500, "Currency": "usd", "PaymentMethod": "pm_card_chargeDeclined"})
    with pytest.raises(HttpError) as e:
        conn.actions().execute(name=f"{NAME}/actions/ConfirmPaymentIntent", body={"parameters": {"PaymentIntentId": intent}}).execute()
    error = error_of(e.value)
    (info,) = [d for d in error["details"] if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"]
    assert (info["reason"], info["domain"], info["metadata"]["declineCode"]) == ("CARD_DECLINED", "stripe.com", "generic_decline")


def test_a_wrong_token_is_a_401_httplib2_parses_and_the_connection_stays_usable(node):
    http = BearerHttp("not-the-token")
    # With credentials of its own, httplib2 parses the WWW-Authenticate challenge of a 401.
    http.add_credentials("user", "password")
    wrong = client(node, http).projects().locations().connections()
    for _ in range(3):
        with pytest.raises(HttpError) as e:
            wrong.entityTypes().entities().create(parent=f"{NAME}/entityTypes/Customer", body={"fields": {"Name": "x"}}).execute()
        assert (e.value.resp.status, error_of(e.value)["status"]) == (401, "UNAUTHENTICATED")
        assert e.value.resp["www-authenticate"].startswith('Bearer realm="')
    right = client(node, BearerHttp(TOKEN)).projects().locations().connections()
    assert right.checkReadiness(name=NAME).execute() == {"status": "READY"}


def test_every_method_of_the_document_was_called():
    """Runs last (pytest keeps file order): each method above was called through the client."""
    assert set(METHODS) - called == set(), f"not exercised: {sorted(set(METHODS) - called)}"
