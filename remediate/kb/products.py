"""The Exchange versions an article applies to, and the service pack that fixes it."""

from __future__ import annotations

import re

from remediate.kb.facts import PRODUCT_NAMES, VERSION_OF, ProductFact
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


def products(text: str, sections: list[Section]) -> tuple[list[ProductFact], list[str]]:
    lines: list[str] = []
    applies = re.search(r"(?:applies to|APPLIES TO)(?:\s*+:)?\s*\n", text)
    if applies:
        for line in text[applies.end() : applies.end() + 3000].split("\n"):
            stripped = line.strip()
            if re.fullmatch(r"[-=]{5,}", stripped) or (lines and not stripped):
                break
            if stripped:
                lines.append(stripped)
    if not _product_list(lines):
        lines = []
        for section in sections[:2]:
            body = text[section.start : section.end]
            listed = re.search(r"(?:following products|one of the following)[^\n]*\n", body)
            if listed:
                for line in body[listed.end() :].split("\n"):
                    if not re.match(r"\s*(?:[-*]|\d+\.)\s+\S", line):
                        break
                    lines.append(line)
    if not _product_list(lines):
        version = re.search(
            r"(?:PROD/VER|Version\(s\)|Version)\s*:\s*winnt\s*:\s*(\d\.\d)", text, re.I
        )
        if version:
            lines = [f"Exchange Server {version.group(1)}"]
    if not _product_list(lines):
        first = _EXCHANGE.search(text[:20000])
        lines = [first.group(0)] if first else []
    facts: list[ProductFact] = []
    texts: list[str] = []
    for fact, label in _product_list(lines):
        if label not in texts:
            texts.append(label)
        if fact not in facts:
            facts.append(fact)
    return _merge_ranges(facts), texts


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


_FIXED_IN = re.compile(
    r"(?:first\s+)?(?:corrected|fixed|resolved)\s+in\s+(?:the\s+)?(?:Microsoft\s+)?"
    r"(Exchange(?:\s+Server)?\s*(?:version\s+)?(?:5\.5|5\.0|2000|2003|2007)(?:\s+Server)?)"
    r"\s*,?\s*(?:Service\s+Pack\s*|SP\s*)(\d)",
    re.I,
)


def fixed_in(text: str) -> tuple[str | None, tuple[str, int] | None]:
    match = _FIXED_IN.search(re.sub(r"\s+", " ", text))
    if not match:
        return None, None
    version_match = re.search(r"(5\.5|5\.0|2000|2003|2007)", match.group(1))
    assert version_match is not None
    version = VERSION_OF.get(version_match.group(1), version_match.group(1))
    sp = int(match.group(2))
    return f"{PRODUCT_NAMES[version]} SP{sp}", (version, sp)
