"""A set of item ids that stays small: a reload remembers every id it has seen."""
from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left


class IdSet:
    """A set of item ids in about 8 bytes each (a Python set of ints takes about 70), so the
    ids of a 100,000-item tracker cost under 1 MB. New ids go to a small set that is merged
    into a sorted array now and then; ids arriving in ascending order (our masters sort by
    itemId) are recognised as new without a search."""

    MERGE_AT = 8192
    RECENT_CAP = 65536  # new ids held as Python ints before a merge (about 4.5 MB)

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
        if len(self._recent) >= max(self.MERGE_AT, min(len(self._sorted) >> 2, self.RECENT_CAP)):
            self._merge()
        return True

    def _merge(self):
        recent = sorted(self._recent)
        if not self._sorted or recent[0] > self._sorted[-1]:
            self._sorted.extend(recent)  # ids in ascending order: appended, nothing copied
        else:  # streamed: never a Python int per id already held (36 bytes each)
            self._sorted = array("q", heapq.merge(self._sorted, recent))
        self._recent = set()
