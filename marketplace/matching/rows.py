"""Provider id -> row of the columnar index."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

DENSE_IDS = 1 << 26  # ids below this map to rows through an array (4 bytes per id)


class RowMap:
    """Provider id -> row. The contract numbers providers 1, 2, 3, ..., so a dense int32 array
    (-1 = absent) costs 4 bytes a provider where a dict of ints would cost about 100; ids from
    DENSE_IDS up, which no real deployment reaches, go to a dict."""

    def __init__(self, ids: npt.NDArray[np.uint32] | None = None) -> None:
        """An empty map, or one mapping `ids[i]` to row i."""
        self._dense = np.full(1024, -1, np.int32)
        self._sparse: dict[int, int] = {}
        if ids is not None and ids.shape[0]:
            small = ids < DENSE_IDS
            self._grow(int(ids[small].max()) + 1 if small.any() else 0)
            rows = np.arange(ids.shape[0], dtype=np.int32)
            self._dense[ids[small]] = rows[small]
            self._sparse = {int(i): int(r) for i, r in zip(ids[~small], rows[~small], strict=True)}

    def get(self, provider_id: int) -> int | None:
        """The row of `provider_id`, or None."""
        if 0 <= provider_id < self._dense.shape[0]:
            row = int(self._dense[provider_id])
            return None if row < 0 else row
        return self._sparse.get(provider_id)

    def __contains__(self, provider_id: object) -> bool:
        return isinstance(provider_id, int) and self.get(provider_id) is not None

    def set(self, provider_id: int, row: int) -> None:
        """Map `provider_id` to `row`."""
        if provider_id >= DENSE_IDS:
            self._sparse[provider_id] = row
            return
        self._grow(provider_id + 1)
        self._dense[provider_id] = row

    def copy(self) -> RowMap:
        """An independent copy."""
        other = RowMap()
        other._dense = self._dense.copy()
        other._sparse = dict(self._sparse)
        return other

    def nbytes(self) -> int:
        """Bytes held by the dense part."""
        return int(self._dense.nbytes)

    def _grow(self, size: int) -> None:
        if size > self._dense.shape[0]:
            grown = np.full(min(max(size, 2 * self._dense.shape[0]), DENSE_IDS), -1, np.int32)
            grown[: self._dense.shape[0]] = self._dense
            self._dense = grown
