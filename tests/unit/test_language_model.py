"""The embedding model loads from the installed wheel with no network, once per process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from marketplace.language.corpus import criteria_examples, feedback_examples

# Run in a fresh interpreter so the model is really loaded there, with every socket refused:
# a download attempt would raise instead of silently succeeding on a machine with a network.
_OFFLINE_LOAD = textwrap.dedent(
    """
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network disabled by the test")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import numpy as np
    from marketplace.language.model import load_embedder

    embedder = load_embedder()
    assert load_embedder() is embedder
    vectors = embedder.embed(["the seats were hard", "great ride"])
    assert vectors.shape == (2, 256), vectors.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    print("loaded", embedder.name)
    """
)


def test_the_model_loads_with_networking_disabled(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_LOAD],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},  # no Hugging Face cache either
    )
    assert result.returncode == 0, result.stderr
    assert "loaded wordllama" in result.stdout


def test_the_corpus_covers_every_category_and_tag_in_both_parts() -> None:
    from marketplace.catalogue import CATEGORIES, COMPLAINT_TAGS

    for split in ("train", "test"):
        part = [e for e in feedback_examples() if e.split == split]
        assert {e.category for e in part} == {c.key for c in CATEGORIES}
        assert any(not e.tags for e in part) and any(len(e.tags) == 2 for e in part)
    assert {t for e in feedback_examples() for t in e.tags} == {t.key for t in COMPLAINT_TAGS}
    assert {e.split for e in criteria_examples()} == {"train", "test"}


def test_the_held_out_feedback_set_is_its_own_frozen_test_part() -> None:
    from marketplace.language.corpus import HELDOUT_FILE

    test = [e for e in feedback_examples() if e.split == "test"]
    train = {e.text for e in feedback_examples() if e.split == "train"}
    assert HELDOUT_FILE == "feedback_heldout.txt"
    assert len(test) >= 150 and not {e.text for e in test} & train
    assert len(feedback_examples()) >= 400
