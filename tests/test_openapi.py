from app.openapi import OPENAPI_PATH, document, render


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
