"""The reload's set of seen item ids (remote/idset.py): a set's answers, in memory that does
not hold a Python int per id (issue 17: a reload of 1,000,000 items)."""
import random
import tracemalloc

from tikisync_web.remote.idset import IdSet


def test_answers_as_a_set_does_in_any_arrival_order():
    rnd = random.Random(17)
    ascending = list(range(1, 60_000, 3))
    shuffled = ascending[:]
    rnd.shuffle(shuffled)
    for order in (ascending, shuffled, ascending[::-1] + [5, 5, 7]):
        ids, plain = IdSet(), set()
        for value in order:
            assert ids.add(value) == (value not in plain)
            plain.add(value)
        assert len(ids) == len(plain)
        for probe in range(0, 60_010):
            assert (probe in ids) == (probe in plain)


def test_a_million_ascending_ids_take_a_few_megabytes_at_most():
    tracemalloc.start()
    try:
        ids = IdSet()
        for value in range(1, 1_000_001):
            ids.add(value)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(ids) == 1_000_000
    # 8 bytes per id in the array (twice while it grows) and at most RECENT_CAP Python ints;
    # copying the array into a list of ints at each merge would take over 40 MB.
    assert peak < 24 * 2**20, peak / 2**20
