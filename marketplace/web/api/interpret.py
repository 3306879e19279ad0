"""The customer's own words interpreted (issue 15): feedback text to complaint tags, a criteria
sentence to a criteria draft. Both only read the text; it is personal data and is neither
stored nor logged.

The feedback model (`marketplace.language.feedback`) is imported and trained on first use, not
at app creation: importing scikit-learn alone takes about a second, and most processes that
create an app (tests, the CLI's settings check) never interpret a text. Servers warm it up in
the background instead (`warm_up`, called by `marketplace.web.wsgi`).
"""

from __future__ import annotations

import logging
import threading
import time

from flask import jsonify
from flask.typing import ResponseReturnValue

from marketplace.catalogue import entry_of
from marketplace.language.criteria_text import parse_criteria_sentence
from marketplace.language.errors import InvalidText
from marketplace.language.model import ModelUnavailable
from marketplace.web.api import bp
from marketplace.web.api.contract import parse_body
from marketplace.web.api.models import CriteriaTextBody, FeedbackTextBody
from marketplace.web.errors import FieldError, Unavailable

log = logging.getLogger(__name__)


def _category_key(value: str | int) -> str:
    """The catalogue key of a validated category (the schema takes a key or its code)."""
    if isinstance(value, int):
        entry = entry_of("category", value)
        if entry is None:  # the schema's enum lists only named codes
            raise FieldError(f"Unknown category {value}.", "category")
        return entry.key
    return value


@bp.post("/interpret/feedback")
def interpret_feedback() -> ResponseReturnValue:
    """Complaint tags understood in a rating's free text, most confident first (none for
    praise), and the model that read it."""
    body = parse_body(FeedbackTextBody)
    from marketplace.language.feedback import feedback_interpreter

    try:
        interpreter = feedback_interpreter()
        guesses = interpreter.interpret(_category_key(body.category), body.text)
    except ModelUnavailable as exc:
        log.error("language model unavailable: %s", exc)
        raise Unavailable("The language model is not available on this server.") from None
    except InvalidText as exc:  # the interpreter's own checks; the body model applies them too
        raise FieldError(_sentence(exc.message), exc.field) from None
    return jsonify({
        "tags": [{"key": g.key, "label": g.label, "confidence": g.confidence} for g in guesses],
        "model": interpreter.model_name,
    })


@bp.post("/interpret/criteria")
def interpret_criteria() -> ResponseReturnValue:
    """A criteria draft read from a sentence: only the fields it states, the phrase behind
    each, and the words that set nothing."""
    body = parse_body(CriteriaTextBody)
    category = _category_key(body.category) if body.category is not None else None
    try:
        draft = parse_criteria_sentence(body.text, category)
    except InvalidText as exc:
        raise FieldError(_sentence(exc.message), exc.field) from None
    return jsonify(draft.as_json())


def _sentence(message: str) -> str:
    """The language package's lower-case messages as the API's sentences."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def warm_up() -> threading.Thread:
    """Load the model and train the feedback classifier in a daemon thread, so the first
    feedback request of this process does not wait for it (1-7 s of CPU).

    Call it in the process that serves requests, after any fork: a fork while the thread holds
    the model's lock would leave the child's lock held forever.
    """

    def run() -> None:
        started = time.perf_counter()
        try:
            from marketplace.language.feedback import feedback_interpreter

            feedback_interpreter()
        except Exception:  # the endpoint reports it (503) when it is asked; the app still serves
            log.exception("language model warm-up failed")
            return
        log.info("language model ready after %.1f s", time.perf_counter() - started)

    thread = threading.Thread(target=run, name="language-warm-up", daemon=True)
    thread.start()
    return thread
