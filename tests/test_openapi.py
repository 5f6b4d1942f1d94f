from typing import Any

from app.cli.openapi import OPENAPI_PATH, document, render


def test_committed_openapi_document_is_current() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_operation_ids_are_unique_and_errors_are_problems() -> None:
    doc = document()
    operations = [op for path in doc["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for op in operations:
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"]


PUBLIC = {
    "health",
    "readiness",
    "metrics",
    "search_providers",
    "public_provider",
    "search_options",
    "registered_on",
    "open_data_csv",
    "open_data_json",
    "open_data_description",
    "get_norm",
}
AUDIENCES = {"agency", "bureau", "provider"}


def _operations() -> list[dict[str, Any]]:
    doc = document()
    return [op for path in doc["paths"].values() for op in path.values()]


def test_every_protected_route_documents_its_security_and_refusals() -> None:
    doc = document()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for op in _operations():
        if op["operationId"] in PUBLIC:
            assert "security" not in op
            continue
        assert op["security"] == [{"bearer": []}], op["operationId"]
        assert {"401", "403", "422"} <= set(op["responses"]), op["operationId"]
        assert op["tags"], op["operationId"]
        assert set(op["tags"]) <= AUDIENCES, op["operationId"]


def test_every_request_body_has_an_example() -> None:
    schemas = document()["components"]["schemas"]
    for op in _operations():
        body = op.get("requestBody")
        if body is None:
            continue
        ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert schemas[ref].get("examples"), f"{op['operationId']}: {ref} has no example"


def test_request_examples_are_valid_requests() -> None:
    """An example that the API itself would refuse teaches integrators the wrong thing."""
    from app.api import schemas

    models = [
        m
        for m in vars(schemas).values()
        if isinstance(m, type) and issubclass(m, schemas.Body) and m is not schemas.Body
    ]
    checked = 0
    for model in models:
        for example in model.model_json_schema().get("examples", []):
            model.model_validate(example)
            checked += 1
    assert checked >= 10
