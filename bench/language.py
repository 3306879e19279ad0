"""The customer's own words, understood offline (section `language` of bench/results.json).

On the labelled corpus in marketplace/language/data/ (written for this project, split once into
train and test parts; only the test part is measured here):

- `feedback_top1_accuracy`: share of test texts that state a complaint whose most confident
  returned tag is one of the tags stated (no tag returned counts as wrong); target >= 0.90;
- `feedback_no_complaint_accuracy`: share of test texts without a complaint that get no tag;
  target >= 0.90;
- `feedback_two_complaints_both_found`: share of test texts with two complaints whose two tags
  are both returned; `feedback_tag_precision`: share of all tags returned for complaint texts
  that the text states (both reported, no target);
- `criteria_field_accuracy`: share of test sentences whose draft is exactly the stated fields
  (every stated field right, nothing stated that the sentence does not say); target >= 0.85;
- `p99_ms`: 99th percentile of the time to interpret one text (feedback and criteria test
  texts, each timed alone, model already loaded); target <= 20;
- `model_load_s`: loading the embedding model in this fresh process; `classifier_train_s`:
  training the feedback classifiers on the training part at first use.
Corpus figures: texts per part, share of feedback texts using no word of any tag's name.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from typing import Any

import numpy as np

from bench.results import write_section
from marketplace.catalogue import COMPLAINT_TAGS
from marketplace.language.corpus import criteria_examples, feedback_examples
from marketplace.language.criteria_text import parse_criteria_sentence
from marketplace.language.feedback import FeedbackInterpreter, training_set
from marketplace.language.model import load_embedder
from marketplace.matching.criteria import parse_amount

TARGETS_MIN = {
    "feedback_top1_accuracy": 0.90,
    "feedback_no_complaint_accuracy": 0.90,
    "criteria_field_accuracy": 0.85,
}
TARGETS_MAX = {"p99_ms": 20.0}
# Words of the tags' own names: a text using none of them says the complaint in its own words.
TAG_WORDS = frozenset(
    {"late", "rude", "dirty", "uncomfortable", "vehicle", "smoke", "smell", "smelled", "poor",
     "quality", "overcharged", "show", "language", "barrier", "pet", "hair"}
)


def expected_criteria(fields: dict[str, str]) -> dict[str, Any]:
    """A corpus line's expected draft in the parser's output shape."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if not name:
            continue
        if name in ("required", "refused"):
            out[name] = sorted(value.split(","))
        elif name == "min_stars":
            out[name] = float(value)
        elif name == "max_price":
            out[name] = str(parse_amount(value))
        else:
            out[name] = value
    return out


def measure() -> dict[str, Any]:
    """Load, train, interpret every test text; return the section's figures."""
    started = time.perf_counter()
    embedder = load_embedder()
    model_load_s = time.perf_counter() - started
    started = time.perf_counter()
    interpreter = FeedbackInterpreter(embedder, training_set())
    train_s = time.perf_counter() - started

    feedback = [e for e in feedback_examples() if e.split == "test"]
    timings: list[float] = []
    top1 = complaints = quiet = no_complaint = both = pairs = returned = stated = 0
    for example in feedback:
        started = time.perf_counter()
        guesses = interpreter.interpret(example.category, example.text)
        timings.append(time.perf_counter() - started)
        keys = [g.key for g in guesses]
        if example.tags:
            complaints += 1
            top1 += bool(keys) and keys[0] in example.tags
            returned += len(keys)
            stated += sum(key in example.tags for key in keys)
            if len(example.tags) == 2:
                pairs += 1
                both += set(example.tags) <= set(keys)
        else:
            no_complaint += 1
            quiet += not keys

    sentences = [e for e in criteria_examples() if e.split == "test"]
    right = 0
    for sentence in sentences:
        started = time.perf_counter()
        draft = parse_criteria_sentence(sentence.text, sentence.category_hint)
        timings.append(time.perf_counter() - started)
        got = {k: sorted(v) if isinstance(v, list) else v for k, v in draft.criteria.items()}
        right += got == expected_criteria(sentence.expected)

    everything = feedback_examples()
    plain = sum(1 for e in everything
                if not TAG_WORDS & set(re.findall(r"[a-z]+", e.text.lower())))
    ms = np.array(timings) * 1000
    return {
        "model": embedder.name,
        "model_load_s": round(model_load_s, 3),
        "classifier_train_s": round(train_s, 3),
        "feedback_top1_accuracy": round(top1 / complaints, 3),
        "feedback_no_complaint_accuracy": round(quiet / no_complaint, 3),
        "feedback_two_complaints_both_found": round(both / max(pairs, 1), 3),
        "feedback_tag_precision": round(stated / max(returned, 1), 3),
        "criteria_field_accuracy": round(right / len(sentences), 3),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "feedback_test_texts": len(feedback),
        "feedback_test_with_complaint": complaints,
        "feedback_test_without_complaint": no_complaint,
        "feedback_test_two_complaints": pairs,
        "feedback_texts": len(everything),
        "feedback_share_without_tag_words": round(plain / len(everything), 3),
        "feedback_tags_covered": sorted({t for e in everything for t in e.tags})
        == sorted(e.key for e in COMPLAINT_TAGS),
        "criteria_sentences": len(criteria_examples()),
        "criteria_test_sentences": len(sentences),
    }


def main(argv: list[str] | None = None) -> int:
    """Measure, print the figures and write section `language`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print, do not write results")
    args = parser.parse_args(argv)
    data: dict[str, Any] = {"load_average_before": round(os.getloadavg()[0], 2)}
    data.update(measure())
    data["load_average_after"] = round(os.getloadavg()[0], 2)
    data["targets"] = {**{k: f">= {v}" for k, v in TARGETS_MIN.items()},
                       **{k: f"<= {v}" for k, v in TARGETS_MAX.items()}}
    data["meets_targets"] = all(data[k] >= v for k, v in TARGETS_MIN.items()) and all(
        data[k] <= v for k, v in TARGETS_MAX.items()
    )
    if not args.dry_run:
        write_section("language", data)
    for key, value in sorted(data.items()):
        print(f"{key}: {value}")
    print("targets:", "met" if data["meets_targets"] else "MISSED")
    return 0 if data["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
