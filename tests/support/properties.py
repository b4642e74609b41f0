"""Hypothesis for the bad-input suites: one settings profile per reliability profile
(tests/support/report.PROFILE: "quick" in make test, "thorough" in make reliability), the
hostile text they draw from, and a tally of what a suite saw for its report row.

The quick profile is derandomized, so `make test` is repeatable; the thorough one explores
afresh on every run. No example database is kept (nothing is written to the checkout).
"""
from collections import Counter
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.report import PROFILE, cases, record

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture,
                                      HealthCheck.filter_too_much,
                                      HealthCheck.large_base_example])
settings.register_profile("quick", derandomize=True, **_COMMON)
settings.register_profile("thorough", derandomize=False, **_COMMON)
settings.load_profile(PROFILE if PROFILE in ("quick", "thorough") else "quick")


def examples(quick, thorough):
    """Settings for one property: `quick` examples in make test, `thorough` in make
    reliability."""
    return settings(max_examples=cases(quick, thorough))


# Text people and programs get wrong: empty and blank, NUL and other controls, CR/LF, numbers
# no database holds, digits that are not ASCII, markup, SQL, paths, huge, astral, bidi.
ATOMS = [
    "", " ", "   ", "\t", "\x00", "a\x00b", "\r\n", "x\ny", "\x01\x7f", "\u200b", "\u202e",
    "0", "1", "-1", "+7", " 12 ", "1e3", "1,5", "0x10", str(2**31), str(2**63), "9" * 30,
    "9" * 4300, "\u00b2", "\u0663", "NaN", "inf", "true", "null", "[]", "{}", '{"a":', "[1]",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "' OR 1=1 --",
    "'; DROP TABLE tikisync_item; --", "../../etc/passwd", "%00", "%0d%0a", "{{7*7}}",
    "javascript:alert(1)", "https://evil.example/", "http://127.0.0.1:9/", "//evil.example",
    "\U0001f600" * 3, "\U0001d11e", "caf\u00e9", "\u0130", "x" * 5001, "y" * 70000,
    "2024-02-30", "1970-01-01", "o", "p", "c", "opc", "admin", "editor", "y", "n", "on",
]

atoms = st.sampled_from(ATOMS)
# Any text a browser can send in a form (no lone surrogates: they cannot be encoded).
free_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
hostile = st.one_of(atoms, free_text, st.builds(lambda a, b: a + b, atoms, free_text))


class Tally(Counter):
    """What a suite saw: cases, 500s, unclear answers, changes that should not be."""

    def row(self, kind, what, note=""):
        record(kind, what, self["cases"], errors_500=self["errors_500"],
               unclear=self["unclear"], lost=self["changed"], note=note)


@contextmanager
def tallied(kind, what, note=""):
    """Count into a Tally and record its report row whatever happens (a failing property
    records the failures it saw, so the report and pytest agree)."""
    tally = Tally()
    try:
        yield tally
    finally:
        tally.row(kind, what, note)
