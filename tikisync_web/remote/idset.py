"""A set of item ids that stays small: a reload remembers every id it has seen."""
from __future__ import annotations

from array import array
from bisect import bisect_left


class IdSet:
    """A set of item ids in about 8 bytes each (a Python set of ints takes about 70), so the
    ids of a 100,000-item tracker cost under 1 MB. New ids go to a small set that is merged
    into a sorted array now and then; ids arriving in ascending order (our masters sort by
    itemId) are recognised as new without a search."""

    MERGE_AT = 8192

    def __init__(self, values=()):
        self._sorted = array("q")
        self._recent = set()
        for value in values:
            self.add(value)

    def __len__(self):
        return len(self._sorted) + len(self._recent)

    def __contains__(self, value):
        if value in self._recent:
            return True
        ordered = self._sorted
        if not ordered or value > ordered[-1] or value < ordered[0]:
            return False
        index = bisect_left(ordered, value)
        return ordered[index] == value

    def add(self, value: int) -> bool:
        """Add `value`; True when it was not there yet."""
        if value in self:
            return False
        self._recent.add(value)
        if len(self._recent) >= max(self.MERGE_AT, len(self._sorted) >> 2):
            self._merge()
        return True

    def _merge(self):
        merged = list(self._sorted)
        merged.extend(self._recent)
        merged.sort()  # two sorted runs: timsort merges them in linear time
        self._sorted = array("q", merged)
        self._recent = set()
