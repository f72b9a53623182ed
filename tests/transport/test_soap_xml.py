"""Replies are parsed by the C parser only after any DTD, in any encoding, is refused."""

from __future__ import annotations

from xml.etree.ElementTree import ParseError

import pytest

from remediate.transport.soap_xml import UnsafeReplyError, parse_reply

BOMB = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><x>&b;</x>'
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'


@pytest.mark.parametrize("text", [BOMB, EXTERNAL])
@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]
)
def test_a_dtd_is_refused_in_every_encoding_expat_reads(text: str, encoding: str) -> None:
    # expat follows a UTF-16 byte order mark even when told the bytes are UTF-8: without the
    # NUL check, the UTF-16 cases would parse and expand the entities.
    with pytest.raises(UnsafeReplyError, match=r"DTD|not UTF-8"):
        parse_reply(text.encode(encoding))


def test_the_xml_declarations_encoding_does_not_override_utf_8() -> None:
    # EBCDIC spells '<!DOCTYPE' with other bytes; told UTF-8, expat cannot read it at all.
    declared = '<?xml version="1.0" encoding="cp500"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    with pytest.raises(ParseError):
        parse_reply(declared.encode("cp500"))


def test_ordinary_replies_parse_with_their_text_and_character_references() -> None:
    root = parse_reply('\ufeff<x a="1">caf\u00e9 &#233;&amp;<y/></x>'.encode())
    assert (root.tag, root.get("a"), root.text) == ("x", "1", "caf\u00e9 \u00e9&")
    assert [child.tag for child in root] == ["y"]


def test_a_broken_reply_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_reply(b"<x><y></x>")
