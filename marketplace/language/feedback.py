"""Complaint tags from a rating's free text: "the suspension was too stiff" -> uncomfortable.

One classifier over eleven classes, the ten complaint tags and "no complaint", trained when
first used from the training part of the corpus plus short per-tag phrases
(`data/tag_phrases.txt`). It blends a logistic regression over the embedding model's word
vectors (the words a "not" or "no" governs pooled apart) with one over word (negation-marked)
and character n-gram TF-IDF, and mixes in the vote of the most similar training texts (by
embedding). P(complaint) is one minus P("no complaint") (so "great job, spotless kitchen"
yields no tag); the tags are ranked over those that make sense for the booking's category.

A tag's confidence is P(complaint) x P(tag | complaint). The most likely tag is returned when the
text is a complaint; a second tag only when the text supports it on its own (two complaints in
one text, clause by clause); when the whole text reads as praise, the words after a "but" and
clearly complaining clauses still count. Only the tags ever leave this module for the chain; the
text itself is personal data and is neither stored nor logged here.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import hstack  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline, make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

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

@dataclass(frozen=True)
class Settings:
    """The classifiers' hyper-parameters (the shipped ones: `SETTINGS`).

    Each classifier blends two logistic regressions: one over the embedding features, one over
    word and character n-gram TF-IDF (which sees exact cues the static embeddings blur: "not",
    "full hour", "heating"). `text_weight` is the TF-IDF model's share of the blend. The
    separate complaint detector (`detector_*`) is trained only when `none_weight` < 1.
    """

    detector_c: float = 0.003
    tagger_c: float = 0.1
    text_detector_c: float = 100.0
    text_tagger_c: float = 10.0
    text_weight: float = 0.7
    detector_text_weight: float = 0.7  # the same share in the complaint-or-not blend
    complaint_threshold: float = 0.65  # P(complaint) below this: praise or neutral, no tag
    # P(complaint) one clause needs to count when the whole text reads as praise
    clause_complaint_threshold: float = 0.9
    second_tag_threshold: float = 0.3  # P(tag | complaint) a further tag needs to be proposed
    clause_tag_threshold: float = 0.6  # the same for a tag found in one clause of a longer text
    negation: bool = False  # words after "not", "no", "never", ... become cues of their own
    char_ngrams: tuple[int, int] = (2, 5)  # character n-gram lengths in the TF-IDF
    # P(complaint) the words after a contrast ("lovely driver, but ...") need to count when the
    # whole text reads as praise (above 1: the contrast is not looked at on its own)
    contrast_threshold: float = 1.01
    contrast_tag_threshold: float = 0.6  # the share its top tag needs there
    # share of the tagger's own "no complaint" class in P(complaint) (0: not trained)
    none_weight: float = 0.0
    # share of the nearest training texts' vote in the tag (and "no complaint") probabilities:
    # the `knn_k` most similar training texts by embedding (cosine), each voting for its own
    # tags with weight similarity squared (0: the regressions alone)
    knn_weight: float = 0.0
    knn_k: int = 10
    # the words a negator governs get an embedding block of their own (see `features`)
    negation_features: bool = False


# The settings that shape training; the others are decision thresholds applied afterwards.
_TRAINING_FIELDS = ("detector_c", "tagger_c", "text_detector_c", "text_tagger_c", "text_weight",
                    "detector_text_weight", "negation", "char_ngrams", "none_weight",
                    "negation_features")

# The defaults above are the previous model's (a separate complaint detector, no negation
# marks, no contrast rule). Chosen by 5-fold cross-validation, repeated twice, on the training
# part only (`bench/language.py --cv-grid`), as the point with the best mean of CV top-1 and CV
# no-complaint accuracy: the tagger's own "no complaint" class decides whether there is a
# complaint at all (AUC 0.968 against 0.951 for the separate detector), negation marks, and
# the words after "but" count on their own when the whole text reads as praise.
#
# Second round (2026-12-03, 1,371 training texts, the same CV and rule, `--cv-grid`'s neighbour
# grid): the words a negator governs pooled apart (`negation_features`) and a 10-nearest-
# neighbour vote with share 0.3, at complaint threshold 0.6: CV top-1 0.889 and no-complaint
# 0.891 (mean 0.890), against 0.845 / 0.902 (mean 0.874) for the previous point on the same
# folds.
SETTINGS = Settings(
    tagger_c=0.03, negation=True, none_weight=1.0, complaint_threshold=0.6,
    clause_complaint_threshold=0.95, contrast_threshold=0.2, contrast_tag_threshold=0.6,
    negation_features=True, knn_weight=0.3, knn_k=10,
)

# Words that carry no complaint either way; dropping them before pooling keeps the few words
# that matter from being averaged away in a long sentence.
_STOPWORDS = frozenset(
    "a an the and or but so as i me my we our you your he she it they them his her its their "
    "was were is are be been am to of in on at for with by from that this these those had have "
    "has did do just all very up out about then there what when which who".split()
)
_CLAUSE = re.compile(r"[.;!?,]|\b(?:and|but|though|although)\b", re.IGNORECASE)
# What follows one of these is what the customer means: "great car, but the driver was rude".
_CONTRAST = re.compile(
    r"\b(?:but|however|though|although|except|unfortunately|shame|pity|sadly)\b", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\d+")


@dataclass(frozen=True)
class TagGuess:
    """A complaint tag understood in a text, with the model's confidence (0..1)."""

    key: str
    label: str
    confidence: float


# Solver tolerance: 10x scikit-learn's default keeps training within a few seconds on a loaded
# machine (the tag regressions took ~3 s each at 1e-4); probabilities move in the third decimal.
_TOL = 1e-3


class _Blend:
    """One decision (complaint or not; which tag) made by two logistic regressions whose
    probabilities are averaged: one over the embedding features, one over n-gram TF-IDF."""

    def __init__(
        self, dense: npt.NDArray[np.float32], sparse: Any, labels: list[int],
        dense_c: float, text_c: float, text_weight: float, balanced: bool,
    ) -> None:
        weight = "balanced" if balanced else None
        self._dense: Pipeline = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=dense_c, max_iter=5000, tol=_TOL, class_weight=weight),
        ).fit(dense, labels)
        self._text = LogisticRegression(
            C=text_c, max_iter=5000, tol=_TOL, class_weight=weight
        ).fit(sparse, labels)
        self._weight = text_weight
        self.classes: list[int] = [int(c) for c in self._dense.classes_]
        # The fitted models as plain matrices (the scaler folded into the dense weights):
        # scikit-learn's input checks cost more than the arithmetic for one short text.
        scaler, dense_model = self._dense[0], self._dense[-1]
        dense_w = dense_model.coef_ / scaler.scale_
        self._dense_w: npt.NDArray[np.float64] = dense_w.T
        self._dense_b: npt.NDArray[np.float64] = dense_model.intercept_ - dense_w @ scaler.mean_
        self._text_w: npt.NDArray[np.float64] = self._text.coef_.T
        self._text_b: npt.NDArray[np.float64] = self._text.intercept_

    def proba(self, dense: npt.NDArray[np.float32], sparse: Any) -> npt.NDArray[np.float64]:
        """Blended class probabilities, one row per text, columns in `classes` order."""
        dense_p = _softmax(dense @ self._dense_w + self._dense_b)
        text_p = _softmax(np.asarray(sparse @ self._text_w) + self._text_b)
        blended: npt.NDArray[np.float64] = (1 - self._weight) * dense_p + self._weight * text_p
        return blended


def _softmax(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Class probabilities from a logistic regression's logits (one column: two classes)."""
    if logits.shape[1] == 1:
        positive = 1 / (1 + np.exp(-logits[:, 0]))
        return np.column_stack([1 - positive, positive])
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    out: npt.NDArray[np.float64] = shifted / shifted.sum(axis=1, keepdims=True)
    return out


class FeedbackInterpreter:
    """Complaint tags for feedback texts; build with `feedback_interpreter()` (trained once)."""

    def __init__(
        self, embedder: Embedder, training: list[tuple[str, tuple[str, ...]]],
        settings: Settings = SETTINGS,
    ) -> None:
        vectors = embedder.vectors()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-6)
        self._vectors: npt.NDArray[np.float32] = (vectors / norms).astype(np.float32)
        self._embedder = embedder
        self._settings = settings
        self.model_name = embedder.name
        texts = [text for text, _ in training]
        # Words (with bigrams, so "not late" and "no smell" are cues of their own) and
        # character n-grams within words (so "stinking" shares with "stank", typos still match).
        self._words = TfidfVectorizer(
            ngram_range=(1, 2), sublinear_tf=True, min_df=1,
            preprocessor=_mark_negation if settings.negation else None,
        )
        self._chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=settings.char_ngrams, sublinear_tf=True
        )
        # One BLAS thread: on a small problem, threads contending for a busy 2-core machine made
        # training 5-20x slower than running on one.
        with threadpool_limits(limits=1):
            self._words.fit(texts)
            self._chars.fit(texts)
            dense = self.features(texts)
            sparse = self._text_features(texts)
            is_complaint = [int(bool(tags)) for _, tags in training]
            # Balanced: praise is the rarer class, and a missed "no complaint" puts a false tag
            # in front of the customer. Not trained when the tagger's own "no complaint" class
            # decides alone (`none_weight` 1).
            self._complaint: _Blend | None = None if settings.none_weight >= 1 else _Blend(
                dense, sparse, is_complaint, settings.detector_c, settings.text_detector_c,
                settings.detector_text_weight, balanced=True,
            )
            rows, labels = [], []
            for row, (_, tags) in enumerate(training):
                for tag in tags:  # a text with two complaints teaches both tags
                    rows.append(row)
                    labels.append(lookup("complaint tag", tag).code)
                if not tags and settings.none_weight > 0:
                    rows.append(row)  # praise as a class of its own among the tags
                    labels.append(_NONE)
            self._tags = _Blend(dense[rows], sparse[rows], labels, settings.tagger_c,
                                settings.text_tagger_c, settings.text_weight, balanced=False)
        self._column = {code: column for column, code in enumerate(self._tags.classes)}
        # The nearest-neighbour vote's memory: every tagger row's embedding and class column.
        self._neighbours = self._neighbour_space(dense[rows])
        self._neighbour_columns = np.array([self._column[code] for code in labels])
        self._allowed = {
            category: [lookup("complaint tag", key) for key in keys
                       if lookup("complaint tag", key).code in self._column]
            for category, keys in CATEGORY_TAGS.items()
        }

    def with_decisions(self, settings: Settings) -> FeedbackInterpreter:
        """This trained interpreter deciding by `settings`' thresholds (cross-validation tries
        many thresholds on one training); every training setting must be the same."""
        trained = {name: getattr(settings, name) for name in _TRAINING_FIELDS}
        if trained != {name: getattr(self._settings, name) for name in _TRAINING_FIELDS}:
            raise ValueError("only the decision thresholds may differ from the trained settings")
        other = copy.copy(self)
        other._settings = settings
        return other

    def _text_features(self, texts: list[str]) -> Any:
        """Word and character n-gram TF-IDF rows (sparse), one per text."""
        return hstack([self._words.transform(texts), self._chars.transform(texts)]).tocsr()

    def _probabilities(
        self, texts: list[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per text: P(complaint), and P(tag | complaint) per tag column."""
        dense = self.features(texts)
        sparse = self._text_features(texts)
        p_tags = self._tags.proba(dense, sparse)
        if self._settings.knn_weight > 0:
            share = self._settings.knn_weight
            p_tags = (1 - share) * p_tags + share * self._neighbour_vote(dense, p_tags.shape[1])
        weight = self._settings.none_weight if _NONE in self._column else 0.0
        p_complaint = np.zeros(len(texts))
        if weight > 0:
            # The tagger's own "no complaint" class, weighed against the tags themselves.
            p_complaint += weight * (1 - p_tags[:, self._column[_NONE]])
        if self._complaint is not None:
            p_complaint += (1 - weight) * self._complaint.proba(dense, sparse)[:, 1]
        return p_complaint, p_tags

    def _neighbour_space(self, dense: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The part of `features` the nearest-neighbour vote compares: the content words' mean
        and the model's whole-text embedding, together scaled to unit length."""
        width = self._vectors.shape[1]
        both = np.hstack([dense[:, :width], dense[:, 2 * width : 3 * width]])
        norms = np.linalg.norm(both, axis=1, keepdims=True).clip(1e-6)
        out: npt.NDArray[np.float32] = both / norms
        return out

    def _neighbour_vote(
        self, dense: npt.NDArray[np.float32], classes: int
    ) -> npt.NDArray[np.float64]:
        """Per text, the class shares among its `knn_k` most similar training rows, each
        weighted by its cosine similarity squared (negative similarities do not vote)."""
        # einsum, not BLAS: for a few rows, BLAS threads waking on a busy machine cost 10x
        # the arithmetic (measured 20-30 ms against 1-3 ms per call at load 8)
        similarity = np.einsum("ij,kj->ik", self._neighbour_space(dense), self._neighbours)
        k = min(self._settings.knn_k, similarity.shape[1])
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weights = np.take_along_axis(similarity, nearest, axis=1).clip(0) ** 2
        votes = np.zeros((len(dense), classes))
        rows, columns = np.arange(len(dense)), self._neighbour_columns[nearest]
        for rank in range(k):  # one vote per row each time: plain indexing, no np.add.at
            votes[rows, columns[:, rank]] += weights[:, rank]
        out: npt.NDArray[np.float64] = votes / votes.sum(axis=1, keepdims=True).clip(1e-9)
        return out

    def features(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Per text: mean (unit length) and element-wise max of its content words' vectors,
        and the model's own embedding of the whole text (which keeps "not", "no", ...).

        With `Settings.negation_features`, the words a negator governs ("not a speck of
        *dust*") are left out of the mean and max and get a fourth block of their own, their
        mean: "dust" said in praise then looks different from "dust" in a complaint.
        """
        width = self._vectors.shape[1]
        negated_block = self._settings.negation_features
        out = np.zeros((len(texts), (4 if negated_block else 3) * width), dtype=np.float32)
        out[:, 2 * width : 3 * width] = self._embedder.embed(texts)
        for row, text in enumerate(texts):
            if negated_block:
                plain, negated = _content_words_by_negation(text)
            else:
                plain, negated = _content_words(text), []
            ids = self._embedder.token_ids(" ".join(plain)) or [0]
            tokens = self._vectors[ids]
            mean = tokens.mean(axis=0)
            out[row, :width] = mean / max(float(np.linalg.norm(mean)), 1e-6)
            out[row, width : 2 * width] = tokens.max(axis=0)
            negated_ids = self._embedder.token_ids(" ".join(negated)) if negated else []
            if negated_ids:
                mean = self._vectors[negated_ids].mean(axis=0)
                out[row, 3 * width :] = mean / max(float(np.linalg.norm(mean)), 1e-6)
        return out

    def interpret(self, category: str, text: str) -> list[TagGuess]:
        """The complaint tags `text` states about a `category` booking, most confident first.

        Empty when the text states no complaint. Raises `InvalidText` for an empty or too long
        text or an unknown category.
        """
        return self.interpret_many([(category, text)])[0]

    def interpret_many(self, requests: list[tuple[str, str]]) -> list[list[TagGuess]]:
        """`interpret` for many (category, text) pairs at once (the same answers, batched)."""
        checked = [(checked_category(c), checked_text(t)) for c, t in requests]
        batch: list[str] = []
        spans: list[tuple[int, int, bool]] = []
        for _, text in checked:
            clauses = _clauses(text)
            contrast = _CONTRAST.split(text)[-1] if _CONTRAST.search(text) else ""
            has_tail = len(_content_words(contrast)) >= 2
            start = len(batch)
            # The whole text, the words after a contrast, and the clauses in one batch: each
            # classifier call has a fixed cost that dominates the time of one short text.
            batch += [text, *([contrast] if has_tail else []),
                      *clauses]
            spans.append((start, len(batch), has_tail))
        p_complaints, p_tags = self._probabilities(batch)
        return [
            self._decide(category, p_complaints[start:end], p_tags[start:end], has_tail)
            for (category, _), (start, end, has_tail) in zip(checked, spans, strict=True)
        ]

    def _decide(
        self, category: str, p_complaints: npt.NDArray[np.float64],
        p_tags: npt.NDArray[np.float64], has_tail: bool,
    ) -> list[TagGuess]:
        """The tags for one text from the scores of the whole text (row 0), the words after its
        last contrast (row 1 when `has_tail`) and its clauses (the rows after)."""
        settings = self._settings
        first_clause = 2 if has_tail else 1
        clause_scores = (p_complaints[first_clause:], p_tags[first_clause:])
        p_complaint = float(p_complaints[0])
        if p_complaint < settings.complaint_threshold:
            # Praise around a complaint ("great driver but the seats were rock hard") can
            # outweigh it in the whole text; what follows a contrast, or a clause that is
            # clearly a complaint, still counts.
            tail = self._clause_tags(
                category, (p_complaints[1:2], p_tags[1:2]) if has_tail
                else (p_complaints[:0], p_tags[:0]), set(), settings.contrast_threshold,
                settings.contrast_tag_threshold,
            )
            found = {g.key for g in tail}
            more = self._clause_tags(
                category, clause_scores, found, settings.clause_complaint_threshold,
                settings.clause_tag_threshold,
            )
            return sorted(tail + more, key=lambda g: -g.confidence)
        probabilities = p_tags[0]
        scores = {e: float(probabilities[self._column[e.code]]) for e in self._allowed[category]}
        total = sum(scores.values()) or 1.0
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        guesses = []
        for rank, (entry, score) in enumerate(ranked):
            share = score / total  # renormalised over the category's tags
            if rank > 0 and share < settings.second_tag_threshold:
                break
            guesses.append(TagGuess(entry.key, entry.label, round(p_complaint * share, 3)))
        found = {g.key for g in guesses}
        return guesses + self._clause_tags(
            category, clause_scores, found, settings.complaint_threshold,
            settings.clause_tag_threshold,
        )

    def _clause_tags(
        self, category: str,
        clause_scores: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
        found: set[str], complaint_threshold: float, tag_threshold: float,
    ) -> list[TagGuess]:
        """Further tags that one clause states clearly on its own ("late, and rude too").

        Averaging a whole text blurs two complaints into one; each clause is scored alone and
        its top tag is added when the clause is a complaint and the tag dominates it.
        `clause_scores`: P(complaint) and P(tag | complaint) per clause (none for a text of
        fewer than two clauses).
        """
        p_complaints, probabilities = clause_scores
        extra: dict[str, TagGuess] = {}
        for p_complaint, row in zip(p_complaints, probabilities, strict=True):
            if p_complaint < complaint_threshold:
                continue
            scores = {e: float(row[self._column[e.code]]) for e in self._allowed[category]}
            entry, score = max(scores.items(), key=lambda item: item[1])
            share = score / (sum(scores.values()) or 1.0)
            if share >= tag_threshold and entry.key not in found:
                confidence = round(float(p_complaint) * share, 3)
                if entry.key not in extra or extra[entry.key].confidence < confidence:
                    extra[entry.key] = TagGuess(entry.key, entry.label, confidence)
        return sorted(extra.values(), key=lambda g: -g.confidence)


_NONE = -1  # the tagger's class for "no complaint" (when `Settings.none_weight` > 0)

# Words that turn what follows around ("not late", "no smell at all", "never rude").
_NEGATORS = frozenset(
    "not no never nothing nobody none without neither nor hardly barely zero".split()
)
_SCOPE_END = re.compile(r"[.;!?,]|\b(?:but|though|although|however)\b")


def _mark_negation(text: str) -> str:
    """Lower-cased `text` with the (up to three) words after a negator prefixed `neg_`, within
    the clause: "no smell of smoke" -> "no neg_smell neg_of neg_smoke"."""
    out: list[str] = []
    for part in _SCOPE_END.split(text.lower()):
        scope = 0
        for word in _WORD.findall(part):
            if word in _NEGATORS or word.endswith(("n't", "n’t")):
                out.append(word)
                scope = 3
            elif scope:
                out.append("neg_" + word)
                scope -= 1
            else:
                out.append(word)
        out.append(".")
    return " ".join(out)


def _clauses(text: str) -> list[str]:
    """The clauses of `text` with at least two content words (none when fewer than two)."""
    clauses = [c for c in _CLAUSE.split(text) if len(_content_words(c)) >= 2]
    return clauses if len(clauses) >= 2 else []


def _content_words_by_negation(text: str) -> tuple[list[str], list[str]]:
    """`text`'s content words outside and inside a negation's scope (`_mark_negation`); the
    first list falls back to `_content_words` when everything is negated."""
    plain: list[str] = []
    negated: list[str] = []
    for word in _mark_negation(text).split():
        bare = word.removeprefix("neg_")
        if bare in _STOPWORDS or bare == ".":
            continue
        (negated if word.startswith("neg_") else plain).append(bare)
    return plain or _content_words(text), negated


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
