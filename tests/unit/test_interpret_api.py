"""The two interpret endpoints of the real app: their fixed JSON shapes, their OpenAPI entries,
a 400 naming the bad field, and the model's background warm-up in served processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.language import feedback
from marketplace.language.errors import MAX_TEXT_CHARS
from marketplace.language.model import ModelUnavailable
from marketplace.web import create_app, wsgi
from marketplace.web.api import interpret

FEEDBACK = "/api/v1/interpret/feedback"
CRITERIA = "/api/v1/interpret/criteria"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp: Path = tmp_path_factory.mktemp("interpret")
    app = create_app({"database_url": f"sqlite:///{tmp / 's.sqlite'}", "secret_key": "k" * 40,
                      "testing": True, "rpc_url": "http://127.0.0.1:9"})
    yield app
    app.extensions["marketplace"].engine.dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_feedback_returns_tags_most_confident_first_and_the_model(client: FlaskClient) -> None:
    response = client.post(FEEDBACK, json={"category": "rides",
                                           "text": "The car reeked of cigarettes."})
    assert response.status_code == 200
    body = response.get_json()
    assert body["model"].startswith("wordllama")
    assert body["tags"][0]["key"] == "smoke_smell"
    assert set(body["tags"][0]) == {"key", "label", "confidence"}
    confidences = [tag["confidence"] for tag in body["tags"]]
    assert confidences == sorted(confidences, reverse=True)


def test_feedback_without_a_complaint_returns_no_tags(client: FlaskClient) -> None:
    response = client.post(FEEDBACK, json={"category": "cleaning",
                                           "text": "Great job, spotless kitchen."})
    assert response.status_code == 200
    assert response.get_json()["tags"] == []


def test_a_category_may_be_given_by_its_code_as_elsewhere_in_the_api(client: FlaskClient) -> None:
    by_key = client.post(FEEDBACK, json={"category": "rides", "text": "He was an hour late."})
    by_code = client.post(FEEDBACK, json={"category": 1, "text": "He was an hour late."})
    drafted = client.post(CRITERIA, json={"text": "in Oulu", "category": 2})

    assert by_code.status_code == 200 and by_code.get_json() == by_key.get_json()
    assert drafted.get_json()["criteria"] == {"category": "cleaning", "region": "oulu"}


def test_criteria_returns_only_the_stated_fields(client: FlaskClient) -> None:
    response = client.post(CRITERIA, json={"text": "A quiet electric car in Tampere, no smokers, "
                                                   "at least 4 stars"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["criteria"] == {"category": "rides", "region": "tampere",
                                "required": ["electric_vehicle"], "refused": ["smoker"],
                                "min_stars": 4.0}
    assert {"text": "no smokers", "field": "refused", "value": "smoker"} in body["phrases"]
    assert body["unparsed"] == ["quiet"]


def test_the_longest_accepted_text_is_interpreted(client: FlaskClient) -> None:
    text = ("The driver was late. " * 200)[:MAX_TEXT_CHARS]
    response = client.post(FEEDBACK, json={"category": "rides", "text": text})

    assert response.status_code == 200 and response.get_json()["tags"][0]["key"] == "late"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [(FEEDBACK, {"category": "rides", "text": "x" * (MAX_TEXT_CHARS + 1)}, "text"),
     (FEEDBACK, {"category": "rides", "text": ""}, "text"),
     (FEEDBACK, {"category": "rides", "text": " \n\t "}, "text"),
     (FEEDBACK, {"category": "boats", "text": "late"}, "category"),
     (FEEDBACK, {"category": 9, "text": "late"}, "category"),
     (FEEDBACK, {"text": "late"}, "category"),
     (FEEDBACK, {"category": "rides", "text": 5}, "text"),
     (CRITERIA, {"text": "x" * (MAX_TEXT_CHARS + 1)}, "text"),
     (CRITERIA, {"text": "Oulu", "category": "boats"}, "category"),
     (CRITERIA, {"text": ["Oulu"]}, "text"),
     (CRITERIA, {}, "text")],
)
def test_bad_input_is_a_400_naming_the_field(
    client: FlaskClient, path: str, body: dict[str, object], field: str
) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400
    error = response.get_json()
    assert error["field"] == field and error["error"] == "invalid_field"
    assert error["message"]


def test_a_body_that_is_not_json_is_refused(client: FlaskClient) -> None:
    response = client.post(CRITERIA, data="text=Oulu")
    assert response.status_code == 415


def test_a_missing_model_is_a_503_not_a_crash(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> feedback.FeedbackInterpreter:
        raise ModelUnavailable("wordllama is not installed; run make setup")

    monkeypatch.setattr(feedback, "feedback_interpreter", unavailable)
    response = client.post(FEEDBACK, json={"category": "rides", "text": "late"})

    assert response.status_code == 503 and response.get_json()["error"] == "unavailable"


def test_both_operations_are_documented_with_their_limits_and_examples(
    client: FlaskClient,
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]

    for path, body, response in (("/interpret/feedback", "FeedbackTextBody", "FeedbackTags"),
                                 ("/interpret/criteria", "CriteriaTextBody", "CriteriaDraft")):
        operation = document["paths"][path]["post"]
        media = operation["requestBody"]["content"]["application/json"]
        assert media["schema"] == {"$ref": f"#/components/schemas/{body}"}
        assert "example" in media
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{response}"}
        text = schemas[body]["properties"]["text"]
        assert (text["minLength"], text["maxLength"], text["pattern"]) == (1, MAX_TEXT_CHARS,
                                                                          r"\S")
    assert schemas["FeedbackTextBody"]["required"] == ["category", "text"]
    assert "rides" in schemas["FeedbackTextBody"]["properties"]["category"]["enum"]
    assert schemas["CriteriaTextBody"]["required"] == ["text"]


def test_the_warm_up_builds_the_feedback_interpreter_in_a_daemon_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built_in: list[threading.Thread] = []
    real = feedback.feedback_interpreter

    def recording() -> feedback.FeedbackInterpreter:
        built_in.append(threading.current_thread())
        return real()

    monkeypatch.setattr(feedback, "feedback_interpreter", recording)
    thread = interpret.warm_up()
    thread.join()

    assert built_in == [thread] and thread.daemon


@pytest.mark.parametrize(("warm_up", "started"), [(True, 1), (False, 0)])
def test_the_served_app_warms_the_model_up_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, warm_up: bool, started: int
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(interpret, "warm_up", lambda: calls.append(1))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 's.sqlite'}")
    monkeypatch.setenv("MARKETPLACE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("MARKETPLACE_RPC_URL", "http://127.0.0.1:9")

    app = wsgi.application(warm_up=warm_up)

    assert len(calls) == started
    app.extensions["marketplace"].engine.dispose()
