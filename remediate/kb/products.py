"""The Exchange versions an article applies to, and the service pack that fixes it."""

from __future__ import annotations

import re

from remediate.kb.facts import VERSION_OF, ProductFact
from remediate.kb.read import Section

_EXCHANGE = re.compile(  # `\s*,?\s*` as `\s*+(?:,\s*+)?`: the same text, no quadratic retries
    r"Exchange(?:\s++Server)?\s*+(?:,\s*+)?(?:version\s++)?(4\.0|5\.0|5\.5|2000|2003|2007)\b"
    r"(?:\s++(?:(?:Enterprise|Standard)\s*+)?(?:Server|Edition))*+"
    r"(?:\s*+(?:,\s*+)?(?:Service\s++Pack\s*+(\d)|SP\s*+(\d)))?(?:\s*+\(SP\d\))?"
    r"(?P<later>\s*+(?:or|and)\s++(?:later|later service packs|newer))?",
    re.I,
)


def _product_list(lines: list[str]) -> list[tuple[ProductFact, str]]:
    found: list[tuple[ProductFact, str]] = []
    for line in lines:
        for match in _EXCHANGE.finditer(line):
            version = VERSION_OF.get(match.group(1), match.group(1))
            sp_text = match.group(2) or match.group(3)
            sp = int(sp_text) if sp_text else None
            later = bool(match.group("later"))
            fact = ProductFact(version, sp, None if (later or sp is None) else sp)
            found.append((fact, fact.text))
    return found


_APPLIES = re.compile(r"applies\s++to\b(?:[ \t]*+:)?", re.I)
_ITEM = re.compile(r"(?:^|(?<=\s))[-*\u2022](?=\s)")  # a bullet starts each listed product
_RULE = re.compile(r"-{5,}|={5,}")
_VERSIONS_WORD = re.compile(r",?\s*+\bversions?\b\s*+", re.I)
_LISTED_VERSION = re.compile(
    r"(?<![\d.])(\d{1,2})\.(\d{1,2})(?![\d.])(?:\s*+(?:SP|Service\s++Packs?)\s*+(\d))?", re.I
)
_EXCHANGE_VERSIONS = frozenset(("4.0", "5.0", "5.5", "6.0", "6.5", "8.0"))
_HEADER_VERSIONS = _EXCHANGE_VERSIONS - {"8.0"}  # a header's 8.0 is Outlook 97's


def _version(match: re.Match[str]) -> str:
    """A listed version as written: 4.00 is 4.0; 8.01 stays 8.01 (no Exchange version)."""
    minor = match.group(2).rstrip("0") or "0"
    return f"{int(match.group(1))}.{minor}"


_TRAILER = re.compile(r",?\s*+(?:on\s++platform\(s\)|used\s++with)\s*+:?\s*+$", re.I)
_HEADER = re.compile(r"^[ \t]*+(?:PROD/VER|Version\(s\)|Version)[ \t]*+:", re.I | re.M)
_HEADER_END = re.compile(r"\n|\b(?:OPER/SYS|KEYWORDS|Issue\s+type)\b|={5,}", re.I)

MAX_APPLIES = 3000
"""The "applies to" list is read this far: the longest lists are some 20 products."""


def _applies_list(text: str) -> str:
    """The text of the "applies to" list: after the phrase (ending its line or followed by a
    bullet), up to the rule or the blank line after its first item."""
    for applies in _APPLIES.finditer(text):
        peek = text[applies.end() : applies.end() + 200]
        gap = len(peek) - len(peek.lstrip())
        if "\n" not in peek[:gap] and peek[gap : gap + 1] not in ("-", "*", "\u2022"):
            continue  # prose: "this applies to all servers"
        after = text[applies.end() : applies.end() + MAX_APPLIES]
        rule = _RULE.search(after)
        end = rule.start() if rule else len(after)
        line_end = after.find("\n", gap)
        while 0 <= line_end < end:  # lines up to the first blank one after the first item
            next_end = after.find("\n", line_end + 1)
            line = after[line_end + 1 : next_end if next_end >= 0 else len(after)]
            if not line.strip():
                end = min(end, line_end)
                break
            line_end = next_end
        return after[:end]
    return ""


def _applies_items(text: str) -> list[str]:
    """The products of the "applies to" list, one item per bullet (a one-line article's too);
    sub-items ("the operating system: ...") come as items of their own."""
    body = _applies_list(text)
    cuts = [m.start() for m in _ITEM.finditer(body)]
    items = []
    for index, cut in enumerate(cuts):
        item = " ".join(body[cut + 1 : cuts[index + 1] if index + 1 < len(cuts) else None].split())
        if item:
            items.append(item)
    if not cuts:  # "APPLIES TO" as a heading: one product a line, no bullets
        items = [" ".join(line.split()) for line in body.split("\n") if line.strip()]
    return items


def _item_versions(item: str) -> list[ProductFact] | None:
    """The Exchange versions one listed product gives, or None when it is not Exchange.

    "Exchange Server, versions 4.0, 5.0, 5.5 SP1", "Exchange Windows 95/98 client, version 5.0",
    "Exchange 2000 Server", "Exchange Server 5.5 SP4": the product is Exchange when its name
    starts with it ("Outlook ..., Exchange Server Edition" is Outlook).
    """
    name = item.removeprefix("Microsoft ").strip()
    if not name.lower().startswith("exchange"):
        return None
    words = _VERSIONS_WORD.search(name)
    if words is None:
        return [fact for fact, _ in _product_list([name])]
    facts = [fact for fact, _ in _product_list([name[: words.start()]])]
    for match in _LISTED_VERSION.finditer(name, words.end()):
        version = _version(match)
        if version not in _EXCHANGE_VERSIONS:
            continue
        sp = int(match.group(3)) if match.group(3) else None
        facts.append(ProductFact(version, sp, sp))
    return facts


def other_product(item: str) -> str | None:
    """A non-Exchange product of the list as written, minus "Microsoft " and "version(s)"."""
    name = _TRAILER.sub("", item).strip()
    if re.match(r"the\s+hardware\s*:", name, re.I):
        return None
    name = re.sub(r"^the\s+operating\s+system\s*:\s*", "", name, flags=re.I)
    name = name.removeprefix("Microsoft ").strip()
    name = _VERSIONS_WORD.sub(" ", name).strip(" ,;")
    return name or None


def _header_versions(text: str) -> list[ProductFact]:
    """Exchange versions from the `PROD/VER:` or `Version(s):` header line, in any of its forms:
    `winnt:5.5,5.5 SP1`, `:4.0,5.0`, `WINDOWS:5.5; winnt:5.5`, `4.0 5.0`, `4.00`."""
    header = _HEADER.search(text)
    if header is None:
        return []
    stop = _HEADER_END.search(text, header.end())
    value = text[header.end() : stop.start() if stop else header.end() + 200][:200]
    facts = []
    for match in _LISTED_VERSION.finditer(value):
        version = _version(match)
        if version in _HEADER_VERSIONS:
            sp = int(match.group(3)) if match.group(3) else None
            facts.append(ProductFact(version, sp, sp))
    return facts


def products(text: str, sections: list[Section]) -> tuple[list[ProductFact], list[str], list[str]]:
    """(Exchange ranges, their names, the other products) the article applies to.

    From the "applies to" list first, then a "following products" list, then the header's
    versions; never from prose (an article mentions versions it does not apply to).
    """
    facts: list[ProductFact] = []
    others: list[str] = []
    for item in _applies_items(text):
        found = _item_versions(item)
        if found is None:
            other = other_product(item)
            if other and other not in others:
                others.append(other)
        else:
            facts += found
    if not facts:
        lines: list[str] = []
        for section in sections[:2]:
            body = text[section.start : section.end]
            listed = re.search(r"(?:following products|one of the following)[^\n]*\n", body)
            if listed:
                for line in body[listed.end() :].split("\n"):
                    if not re.match(r"\s*(?:[-*]|\d+\.)\s+\S", line):
                        break
                    lines.append(line)
        facts = [fact for fact, _ in _product_list(lines)]
    if not facts:
        facts = _header_versions(text)
    unique: list[ProductFact] = []
    texts: list[str] = []
    for fact in facts:
        if fact.text not in texts:
            texts.append(fact.text)
        if fact not in unique:
            unique.append(fact)
    return _merge_ranges(unique), texts, others


def _merge_ranges(facts: list[ProductFact]) -> list[ProductFact]:
    """One range per version: the widest the article gives."""
    merged: dict[str, ProductFact] = {}
    for fact in facts:
        old = merged.get(fact.version)
        if old is None:
            merged[fact.version] = fact
            continue
        low = None if old.min_sp is None or fact.min_sp is None else min(old.min_sp, fact.min_sp)
        high = None if old.max_sp is None or fact.max_sp is None else max(old.max_sp, fact.max_sp)
        merged[fact.version] = ProductFact(fact.version, low, high)
    return list(merged.values())
