"""The service pack that fixes an article's problem (or first includes its feature).

Articles say it in a few ways: "This problem was first corrected in Exchange Server 5.5 Service
Pack 3", "... corrected in Microsoft Exchange Server 4.0 U.S. Service Pack 2", "This feature was
first included in ... Service Pack 2", "a post-SP2 fix ... rolled into ... Service Pack 3", "is
corrected in SP3" (the article's one version), or a Windows service pack as the whole fix
("make sure that Windows NT 4.0 Service Pack 6a is installed"). A hotfix alone is no fixed_in.
"""

from __future__ import annotations

import re

from remediate.kb.facts import PRODUCT_NAMES, VERSION_OF, ProductFact
from remediate.kb.read import Section
from remediate.kb.references import mask_references

_EXCHANGE = (
    r"Exchange(?:\s++Server)?\s*+(?:,\s*+)?(?:version\s++)?(?P<version>4\.0|5\.0|5\.5|2000|2003|2007)"
    r"(?:\s++Server)?"
)
_WINDOWS = (
    r"(?P<windows>Windows\s++(?:NT\s++(?:Server\s++)?4\.0|2000(?:\s++Server)?|Server\s++2003))"
)
_SP = r"\s*+(?:,\s*+)?(?:U\.S\.\s*+|English\s++)?(?:Service\s++Pack|SP)\s*+(?P<sp>\d{1,2})(?!\.?\d)"
_VERB = (
    r"\b(?:(?:first\s++)?(?:corrected|fixed|resolved|included|introduced)\s++in"
    r"|rolled\s++into|(?:first\s++)?(?:corrected|fixed|resolved)\s++by)"
)
_FIXED_IN = re.compile(
    rf"{_VERB}\s++(?:the\s++)?(?:Microsoft\s++)?(?:{_EXCHANGE}|{_WINDOWS}){_SP}", re.I
)
_FIXED_IN_SP = re.compile(  # Exchange's service packs have no letter; Windows NT's SP6a has
    rf"{_VERB}\s++(?:Service\s++Pack|SP)\s*+(?P<sp>\d{{1,2}})(?!\.?\d|[a-z])", re.I
)
_WINDOWS_SP = re.compile(rf"(?:Microsoft\s++)?{_WINDOWS}{_SP}", re.I)
_INSTALL = re.compile(r"\b(?:install|installed|apply|obtain|upgrade\s+to|make\s+sure)\b", re.I)

FixedIn = tuple[str | None, tuple[str, int] | None, tuple[str, int] | None]
"""(text such as "Exchange Server 5.5 SP3", (Exchange version, SP) or None, (other product, SP)
or None): the second is what a playbook's fix.fixed_in takes, the third a Windows fix."""


def fixed_in(text: str, sections: list[Section], ranges: list[ProductFact]) -> FixedIn:
    """The fixing service pack an article names, Exchange's first, else a Windows one."""
    text = mask_references(text)  # "Q241211 List of Bugs Fixed in ... Service Pack 6"
    flat = " ".join(text.split())  # sentences broken over lines read as one
    first_windows = None
    for match in _FIXED_IN.finditer(flat):
        if match.group("version"):
            version = VERSION_OF.get(match.group("version"), match.group("version"))
            sp = int(match.group("sp"))
            return f"{PRODUCT_NAMES[version]} SP{sp}", (version, sp), None
        first_windows = first_windows or match
    if first_windows:
        return _windows(first_windows)
    bare = _FIXED_IN_SP.search(flat)
    if bare and len(ranges) == 1:  # "corrected in SP3": the article's one version
        version, sp = ranges[0].version, int(bare.group("sp"))
        return f"{PRODUCT_NAMES.get(version, f'Exchange {version}')} SP{sp}", (version, sp), None
    for section in sections:
        if section.name != "RESOLUTION":
            continue
        body = " ".join(text[section.start : section.end].split())
        for windows in _WINDOWS_SP.finditer(body):
            opening = max(0, windows.start() - 200)  # a sentence's start, looked for nearby
            sentence = body[
                max(opening, body.rfind(".", opening, windows.start()) + 1) : windows.end() + 40
            ]
            if _INSTALL.search(sentence):
                return _windows(windows)
    return None, None, None


def _windows(match: re.Match[str]) -> FixedIn:
    product = " ".join(match.group("windows").split())
    sp = int(match.group("sp"))
    return f"{product} SP{sp}", None, (product, sp)
