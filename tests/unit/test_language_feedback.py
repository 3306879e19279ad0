"""The feedback interpreter: complaint tags from free text, none for praise, bad input refused."""

from __future__ import annotations

import numpy as np
import pytest

from marketplace.language.errors import MAX_TEXT_CHARS, InvalidText
from marketplace.language.feedback import CATEGORY_TAGS, FeedbackInterpreter, feedback_interpreter


@pytest.fixture(scope="module")
def interpreter() -> FeedbackInterpreter:
    return feedback_interpreter()


def test_a_text_with_no_complaint_yields_no_tag(interpreter: FeedbackInterpreter) -> None:
    assert interpreter.interpret("cleaning", "Great job, spotless kitchen.") == []


def test_a_plain_complaint_yields_its_tag_first(interpreter: FeedbackInterpreter) -> None:
    guesses = interpreter.interpret("rides", "The car stank of cigarettes and old tobacco.")
    assert guesses[0].key == "smoke_smell"
    assert guesses[0].label == "Smelled of smoke"


def test_confidences_are_probabilities_most_confident_first(
    interpreter: FeedbackInterpreter,
) -> None:
    guesses = interpreter.interpret("rides", "He came an hour late and shouted at me.")
    assert guesses
    confidences = [g.confidence for g in guesses]
    assert all(0 < c <= 1 for c in confidences)
    assert confidences == sorted(confidences, reverse=True)


@pytest.mark.parametrize("category", sorted(CATEGORY_TAGS))
def test_only_tags_that_fit_the_category_are_offered(
    interpreter: FeedbackInterpreter, category: str
) -> None:
    text = "Cramped seats, no legroom, and the suspension hurt my back."
    for guess in interpreter.interpret(category, text):
        assert guess.key in CATEGORY_TAGS[category]


def test_the_interpreter_is_built_once_per_process() -> None:
    assert feedback_interpreter() is feedback_interpreter()


def test_the_longest_accepted_text_is_interpreted(interpreter: FeedbackInterpreter) -> None:
    text = ("The driver was late. " * 200)[:MAX_TEXT_CHARS]
    assert interpreter.interpret("rides", text)[0].key == "late"


@pytest.mark.parametrize(
    ("category", "text", "field"),
    [("rides", "x" * (MAX_TEXT_CHARS + 1), "text"), ("rides", "  ", "text"),
     ("gardening", "late", "category"), ("rides", None, "text")],
)
def test_bad_input_is_refused_with_the_field_named(
    interpreter: FeedbackInterpreter, category: str, text: object, field: str
) -> None:
    with pytest.raises(InvalidText) as caught:
        interpreter.interpret(category, text)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_two_complaints_in_one_text_yield_both_tags(interpreter: FeedbackInterpreter) -> None:
    text = "He was an hour late, and the car stank of cigarettes."
    guesses = interpreter.interpret("rides", text)
    assert {"late", "smoke_smell"} <= {g.key for g in guesses}


def test_a_complaint_wrapped_in_praise_is_still_found(interpreter: FeedbackInterpreter) -> None:
    text = "Lovely cleaner, but she left muddy footprints everywhere."
    guesses = interpreter.interpret("cleaning", text)
    assert [g.key for g in guesses] == ["dirty"]


@pytest.mark.parametrize("classes", [2, 4])
def test_blended_probabilities_match_scikit_learns(classes: int) -> None:
    # The fitted regressions are applied as plain matrices for speed; they must give exactly
    # what scikit-learn's own predict_proba gives (binary and multinomial).
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    from marketplace.language.feedback import _Blend

    rng = np.random.default_rng(15)
    dense = rng.normal(size=(60, 5)).astype(np.float32)
    sparse = csr_matrix(rng.random((60, 7)) * (rng.random((60, 7)) > 0.6))
    labels = [int(i % classes) for i in range(60)]
    blend = _Blend(dense, sparse, labels, 1.0, 1.0, 0.7, balanced=False)
    expected = 0.3 * blend._dense.predict_proba(dense) + 0.7 * blend._text.predict_proba(sparse)
    assert np.allclose(blend.proba(dense, sparse), expected, atol=1e-9)
    assert np.allclose(blend.proba(dense, sparse).sum(axis=1), 1.0)


def test_negation_marks_the_words_it_turns_around_within_the_clause() -> None:
    from marketplace.language.feedback import _mark_negation

    marked = _mark_negation("No smell of smoke at all, but the seats were hard.")
    assert "neg_smell neg_of neg_smoke at" in marked
    assert "neg_seats" not in marked and "seats" in marked
    assert "neg_late" in _mark_negation("He wasn't late")


def test_a_batch_gives_the_answers_of_one_text_at_a_time(
    interpreter: FeedbackInterpreter,
) -> None:
    requests = [("rides", "Lovely driver."), ("cleaning", "She came two hours late, and rude."),
                ("delivery", "The parcel was soaked and torn.")]
    assert interpreter.interpret_many(requests) == [
        interpreter.interpret(category, text) for category, text in requests
    ]


def test_only_decision_thresholds_may_change_after_training(
    interpreter: FeedbackInterpreter,
) -> None:
    from dataclasses import replace

    from marketplace.language.feedback import SETTINGS

    stricter = interpreter.with_decisions(replace(SETTINGS, complaint_threshold=1.01))
    assert stricter.interpret("rides", "Lovely driver, spotless car.") == []
    with pytest.raises(ValueError):
        interpreter.with_decisions(replace(SETTINGS, tagger_c=1.0))


def test_negated_words_are_pooled_apart_from_the_others() -> None:
    from marketplace.language.feedback import _content_words_by_negation

    plain, negated = _content_words_by_negation("No smell of smoke, but the seats were hard.")
    assert negated == ["smell", "smoke"]
    assert "seats" in plain and "hard" in plain and "smoke" not in plain
    # everything negated: the plain words fall back to all content words, never empty
    plain, negated = _content_words_by_negation("Not dirty")
    assert negated == ["dirty"] and plain


def test_the_neighbour_vote_is_a_distribution_led_by_a_known_texts_own_tag(
    interpreter: FeedbackInterpreter,
) -> None:
    from marketplace.language.feedback import tag_phrases

    text, tags = next((t, k) for t, k in tag_phrases() if k == ("smoke_smell",))
    dense = interpreter.features([text, "Lovely driver, spotless car."])
    votes = interpreter._neighbour_vote(dense, len(interpreter._column))
    assert np.allclose(votes.sum(axis=1), 1.0) and (votes >= 0).all()
    # the text itself is among the training rows, at similarity 1: its tag gets the most
    from marketplace.catalogue import lookup

    assert int(votes[0].argmax()) == interpreter._column[lookup("complaint tag", tags[0]).code]
