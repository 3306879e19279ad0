"""Complaint tags from a rating's free text: "the suspension was too stiff" -> uncomfortable.

Two small classifiers over the embedding model's word vectors, trained when first used from the
training part of the corpus plus short per-tag phrases (`data/tag_phrases.txt`):

1. *is there a complaint at all?* (so "great job, spotless kitchen" yields no tag), and
2. *which tags?* over the tags that make sense for the booking's category.

A tag's confidence is P(complaint) x P(tag | complaint). The most likely tag is returned when the
text is a complaint; a second tag only when the text supports it on its own (two complaints in
one text). Only the tags ever leave this module for the chain; the text itself is personal data
and is neither stored nor logged here.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline, make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from marketplace.catalogue import COMPLAINT_TAGS, lookup
from marketplace.language.corpus import FeedbackExample, feedback_examples
from marketplace.language.errors import checked_category, checked_text
from marketplace.language.model import Embedder, load_embedder

# Which complaint tags make sense for which category: a tutor has no vehicle, a courier's
# parcel can be dirty but nobody sits in the courier's car.
CATEGORY_TAGS: dict[str, tuple[str, ...]] = {
    "rides": tuple(entry.key for entry in COMPLAINT_TAGS),
    "cleaning": ("late", "rude", "dirty", "smoke_smell", "poor_quality", "overcharged",
                 "no_show", "language_barrier", "pet_hair"),
    "tutoring": ("late", "rude", "smoke_smell", "poor_quality", "overcharged", "no_show",
                 "language_barrier"),
    "repairs": ("late", "rude", "dirty", "smoke_smell", "poor_quality", "overcharged",
                "no_show", "language_barrier"),
    "delivery": ("late", "rude", "dirty", "smoke_smell", "poor_quality", "overcharged",
                 "no_show", "language_barrier", "pet_hair"),
}

COMPLAINT_THRESHOLD = 0.5  # P(complaint) below this: the text is praise or neutral, no tag
SECOND_TAG_THRESHOLD = 0.3  # P(tag | complaint) a further tag needs to be proposed too
CLAUSE_TAG_THRESHOLD = 0.6  # the same for a tag found in one clause of a longer text
# Regularisation, chosen by 4-fold cross-validation on the training part only (the detector's
# is the one that matters: smaller C, fewer false tags; the tagger's barely moves the score).
DETECTOR_C = 0.003
TAGGER_C = 0.1
CLAUSE_COMPLAINT_THRESHOLD = 0.8  # P(complaint) of a clause when the whole text reads as praise

# Words that carry no complaint either way; dropping them before pooling keeps the few words
# that matter from being averaged away in a long sentence.
_STOPWORDS = frozenset(
    "a an the and or but so as i me my we our you your he she it they them his her its their "
    "was were is are be been am to of in on at for with by from that this these those had have "
    "has did do just all very up out about then there what when which who".split()
)
_CLAUSE = re.compile(r"[.;!?,]|\b(?:and|but|though|although)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+")


@dataclass(frozen=True)
class TagGuess:
    """A complaint tag understood in a text, with the model's confidence (0..1)."""

    key: str
    label: str
    confidence: float


class FeedbackInterpreter:
    """Complaint tags for feedback texts; build with `feedback_interpreter()` (trained once)."""

    def __init__(self, embedder: Embedder, training: list[tuple[str, tuple[str, ...]]]) -> None:
        vectors = embedder.vectors()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-6)
        self._vectors: npt.NDArray[np.float32] = (vectors / norms).astype(np.float32)
        self._embedder = embedder
        self.model_name = embedder.name
        texts = [text for text, _ in training]
        features = self.features(texts)
        is_complaint = np.array([bool(tags) for _, tags in training], dtype=int)
        self._complaint: Pipeline = make_pipeline(
            # Balanced: praise is the rarer class, and a missed "no complaint" puts a false
            # tag in front of the customer.
            StandardScaler(),
            LogisticRegression(C=DETECTOR_C, max_iter=5000, class_weight="balanced"),
        ).fit(features, is_complaint)
        rows, labels = [], []
        for row, (_, tags) in enumerate(training):
            for tag in tags:  # a text with two complaints teaches both tags
                rows.append(row)
                labels.append(lookup("complaint tag", tag).code)
        self._tags: Pipeline = make_pipeline(
            StandardScaler(), LogisticRegression(C=TAGGER_C, max_iter=5000)
        ).fit(features[rows], labels)
        classes = [int(code) for code in self._tags.classes_]
        self._column = {code: column for column, code in enumerate(classes)}

    def features(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Per text: mean (unit length) and element-wise max of its content words' vectors,
        and the model's own embedding of the whole text (which keeps "not", "no", ...)."""
        width = self._vectors.shape[1]
        out = np.empty((len(texts), 3 * width), dtype=np.float32)
        out[:, 2 * width :] = self._embedder.embed(texts)
        for row, text in enumerate(texts):
            ids = self._embedder.token_ids(" ".join(_content_words(text))) or [0]
            tokens = self._vectors[ids]
            mean = tokens.mean(axis=0)
            out[row, :width] = mean / max(float(np.linalg.norm(mean)), 1e-6)
            out[row, width : 2 * width] = tokens.max(axis=0)
        return out

    def interpret(self, category: str, text: str) -> list[TagGuess]:
        """The complaint tags `text` states about a `category` booking, most confident first.

        Empty when the text states no complaint. Raises `InvalidText` for an empty or too long
        text or an unknown category.
        """
        category = checked_category(category)
        text = checked_text(text)
        features = self.features([text])
        p_complaint = float(self._complaint.predict_proba(features)[0, 1])
        if p_complaint < COMPLAINT_THRESHOLD:
            # Praise around a complaint ("great driver but the seats were rock hard") can
            # outweigh it in the whole text; a clause that is clearly a complaint still counts.
            return self._clause_tags(category, text, set(), CLAUSE_COMPLAINT_THRESHOLD)
        probabilities = self._tags.predict_proba(features)[0]
        allowed = [lookup("complaint tag", key) for key in CATEGORY_TAGS[category]]
        scores = {e: float(probabilities[self._column[e.code]]) for e in allowed
                  if e.code in self._column}
        total = sum(scores.values()) or 1.0
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        guesses = []
        for rank, (entry, score) in enumerate(ranked):
            share = score / total  # renormalised over the category's tags
            if rank > 0 and share < SECOND_TAG_THRESHOLD:
                break
            guesses.append(TagGuess(entry.key, entry.label, round(p_complaint * share, 3)))
        found = {g.key for g in guesses}
        return guesses + self._clause_tags(category, text, found, COMPLAINT_THRESHOLD)

    def _clause_tags(
        self, category: str, text: str, found: set[str], complaint_threshold: float
    ) -> list[TagGuess]:
        """Further tags that one clause states clearly on its own ("late, and rude too").

        Averaging a whole text blurs two complaints into one; each clause is scored alone and
        its top tag is added when the clause is a complaint and the tag dominates it.
        """
        clauses = [c for c in _CLAUSE.split(text) if len(_content_words(c)) >= 2]
        if len(clauses) < 2:
            return []
        features = self.features(clauses)
        p_complaints = self._complaint.predict_proba(features)[:, 1]
        probabilities = self._tags.predict_proba(features)
        allowed = [lookup("complaint tag", key) for key in CATEGORY_TAGS[category]]
        extra: dict[str, TagGuess] = {}
        for p_complaint, row in zip(p_complaints, probabilities, strict=True):
            if p_complaint < complaint_threshold:
                continue
            scores = {e: float(row[self._column[e.code]]) for e in allowed
                      if e.code in self._column}
            entry, score = max(scores.items(), key=lambda item: item[1])
            share = score / (sum(scores.values()) or 1.0)
            if share >= CLAUSE_TAG_THRESHOLD and entry.key not in found:
                confidence = round(float(p_complaint) * share, 3)
                if entry.key not in extra or extra[entry.key].confidence < confidence:
                    extra[entry.key] = TagGuess(entry.key, entry.label, confidence)
        return sorted(extra.values(), key=lambda g: -g.confidence)


def _content_words(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return words or _WORD.findall(text.lower())


def tag_phrases() -> list[tuple[str, tuple[str, ...]]]:
    """The per-tag description phrases the classifier learns from besides the corpus."""
    raw = resources.files("marketplace.language").joinpath("data", "tag_phrases.txt")
    phrases: list[tuple[str, tuple[str, ...]]] = []
    for line in raw.read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            tag, _, phrase = line.partition("|")
            phrases.append((phrase, () if tag == "-" else (lookup("complaint tag", tag).key,)))
    return phrases


def training_set(examples: tuple[FeedbackExample, ...] | None = None) -> list[
    tuple[str, tuple[str, ...]]
]:
    """The training part of the corpus plus the tag phrases, as (text, tags) pairs."""
    chosen = feedback_examples() if examples is None else examples
    return [(e.text, e.tags) for e in chosen if e.split == "train"] + tag_phrases()


_lock = threading.Lock()
_interpreter: FeedbackInterpreter | None = None


def feedback_interpreter() -> FeedbackInterpreter:
    """The process's interpreter: model loaded and classifiers trained on first use only."""
    global _interpreter
    with _lock:
        if _interpreter is None:
            _interpreter = FeedbackInterpreter(load_embedder(), training_set())
        return _interpreter


def interpret_feedback(category: str, text: str) -> list[TagGuess]:
    """Complaint tags in `text` for a `category` booking, most confident first (see above)."""
    return feedback_interpreter().interpret(category, text)
