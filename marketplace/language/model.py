"""The sentence-embedding model: wordllama's bundled `l2_supercat_256`, loaded offline.

wordllama ships its weights and tokenizer inside its wheel. Its loader looks for the tokenizer
in `<cache_dir>/tokenizers/` and would otherwise fetch it from Hugging Face; pointing `cache_dir`
at the installed package folder and disabling downloads makes loading a pure file read. The
model is loaded once per process, on first use, under a lock (gunicorn threads may race).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from marketplace.errors import MarketplaceError

MODEL_NAME = "wordllama l2_supercat_256"


class ModelUnavailable(MarketplaceError):
    """The embedding model is not installed or its bundled files are missing."""


@dataclass(frozen=True)
class Embedder:
    """A loaded model: `embed` turns texts into unit-length 256-dimensional vectors."""

    name: str
    load_seconds: float
    _inference: object

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Unit-length embeddings of `texts`, one row per text."""
        vectors: npt.NDArray[np.float32] = self._inference.embed(  # type: ignore[attr-defined]
            texts, norm=True
        )
        return vectors

    def vectors(self) -> npt.NDArray[np.float32]:
        """The model's token embedding matrix (one row per token id)."""
        matrix: npt.NDArray[np.float32] = self._inference.embedding  # type: ignore[attr-defined]
        return matrix

    def token_ids(self, text: str) -> list[int]:
        """The tokenizer's ids for `text` (no special tokens)."""
        tokenizer = self._inference.tokenizer  # type: ignore[attr-defined]
        ids: list[int] = tokenizer.encode(text, add_special_tokens=False).ids
        return ids


_lock = threading.Lock()
_loaded: Embedder | None = None


def load_embedder() -> Embedder:
    """The process's embedder, loading it (offline, ~0.2-2 s) on the first call only."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _load()
        return _loaded


def _load() -> Embedder:
    started = time.perf_counter()
    try:
        import wordllama  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - requirements.lock installs it
        raise ModelUnavailable("wordllama is not installed; run make setup") from exc
    package_dir = Path(wordllama.__file__).resolve().parent
    try:
        inference = wordllama.WordLlama.load(cache_dir=package_dir, disable_download=True)
    except FileNotFoundError as exc:
        raise ModelUnavailable(f"wordllama's bundled model files are missing: {exc}") from exc
    return Embedder(MODEL_NAME, time.perf_counter() - started, inference)
