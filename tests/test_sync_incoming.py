"""The reload's fast encoders give what the general ones give, character for character."""
import json
import sys

import pytest

from tikisync_web.items import search_text
from tikisync_web.sync.incoming import digest, searchable, stored_text
from tikisync_web.values import content_hash

TRICKY = ["", "plain", 'quote " and \\ backslash', "tab\there\nnew line\r\n", "\x00\x01\x1f\x7f",
          "é ü ß", "日本語", "emoji 🙂 and 𝄞", "\u2028\u2029", "</script>", " spaced "]


def every_code_point():
    """All Unicode scalar values, 2,000 to a string."""
    points = [cp for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    return ["".join(map(chr, points[i:i + 2000])) for i in range(0, len(points), 2000)]


@pytest.mark.parametrize("status", ["o", "p", "c", "", None])
def test_digest_is_the_content_hash(status):
    for text in TRICKY:
        values = {"title": text, "notes": "x", "empty": "", "ünïcode_key": text}
        assert digest(values, status) == content_hash(values, status), text


def test_digest_is_the_content_hash_for_every_character():
    for chunk in every_code_point():
        values = {"b": chunk, "a": chunk[::-1], "c": ""}
        assert digest(values, "o") == content_hash(values, "o")


def test_digest_ignores_empty_values_and_key_order():
    assert digest({"a": "1", "b": ""}, "o") == digest({"b": "", "a": "1"}, "o") == \
        digest({"a": "1"}, "o")
    assert digest({"a": "1"}, "o") != digest({"a": "1"}, "c")


def test_stored_text_reads_back_and_search_text_matches():
    for text in TRICKY + every_code_point()[:3]:
        values = {"title": text, "amount": "12", "empty": ""}
        assert json.loads(stored_text(values)) == values
        assert searchable(values) == search_text(values)


def test_a_lone_surrogate_is_left_to_pythons_json():
    values = {"title": "broken \ud800 text"}
    assert json.loads(stored_text(values)) == values
    with pytest.raises(UnicodeEncodeError):  # as content_hash itself: no text to hash
        digest(values, "o")
    with pytest.raises(UnicodeEncodeError):
        content_hash(values, "o")
