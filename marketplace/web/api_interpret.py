"""JSON API: the customer's own words interpreted (issue 15).

- `POST /api/v1/interpret/feedback` `{"category", "text"}` -> `{"tags": [{key, label,
  confidence}], "model"}`, most confident first, empty when the text states no complaint;
- `POST /api/v1/interpret/criteria` `{"text", "category"?}` -> `{"criteria", "phrases",
  "unparsed"}`, only the fields the sentence states.

Neither endpoint stores or logs the text (it is personal data); they only read it. An empty or
too long text (over 2,000 characters) or an unknown category is a 400 naming the field. The
model loads on the first call of the process (see marketplace/language/model.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from marketplace.language.criteria_text import parse_criteria_sentence
from marketplace.language.errors import InvalidText
from marketplace.language.feedback import feedback_interpreter
from marketplace.web.errors import FieldError

bp = Blueprint("api_interpret", __name__, url_prefix="/api/v1/interpret")


def _json_object() -> dict[str, Any]:
    """The request's JSON object, or a 400/415 saying what to send."""
    if not request.is_json:
        raise FieldError("Send a JSON object with Content-Type: application/json.", None,
                         status=415, code="unsupported_media_type")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise FieldError("The body must be a JSON object.", None, code="invalid_json")
    return data


@bp.post("/feedback")
def interpret_feedback() -> dict[str, Any]:
    """Complaint tags understood in a rating's free text, with confidences."""
    data = _json_object()
    interpreter = feedback_interpreter()
    try:
        guesses = interpreter.interpret(data.get("category"), data.get("text"))  # type: ignore[arg-type]
    except InvalidText as exc:
        raise FieldError(exc.message, exc.field) from None
    return {
        "tags": [{"key": g.key, "label": g.label, "confidence": g.confidence} for g in guesses],
        "model": interpreter.model_name,
    }


@bp.post("/criteria")
def interpret_criteria() -> dict[str, Any]:
    """A criteria draft read from a sentence, with the phrase behind each field."""
    data = _json_object()
    try:
        draft = parse_criteria_sentence(data.get("text"), data.get("category"))  # type: ignore[arg-type]
    except InvalidText as exc:
        raise FieldError(exc.message, exc.field) from None
    return draft.as_json()
