"""Facts from an article's text: identity, title, products, symptom events with their error
codes and data bytes, the installed-files table and the fixing service pack.

The second step of the importer's flow (read -> extract -> draft). Everything here is regular
expressions over the article text; nothing is fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remediate.kb.read import Section, normalise, split_sections

# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class EventFact:
    """One symptom event: source as written (or None), ID, error codes, first data bytes."""

    source: str | None
    event_id: int
    codes: tuple[str, ...] = ()
    data: str | None = None


@dataclass(frozen=True)
class FixRow:
    """One row of the article's installed-files table."""

    file: str
    version: str | None
    platform: str | None = None
    component: str | None = None


@dataclass(frozen=True)
class ProductFact:
    """An Exchange version the article applies to, with its service pack bounds."""

    version: str  # 5.5, 6.0, 6.5
    min_sp: int | None = None
    max_sp: int | None = None

    @property
    def text(self) -> str:
        name = _PRODUCT_NAMES.get(self.version, f"Exchange Server {self.version}")
        return f"{name} SP{self.min_sp}" if self.min_sp else name


@dataclass(frozen=True)
class ArticleFacts:
    """What an article says, as extracted (the JSON keys, plus the importer's warnings)."""

    article: str | None
    title: str | None
    products: list[str]
    events: list[EventFact]
    fix_files: list[FixRow]
    fixed_in: str | None
    warnings: list[str] = field(default_factory=list)
    ranges: list[ProductFact] = field(default_factory=list)
    fixed_in_sp: tuple[str, int] | None = None
    references: list[str] = field(default_factory=list)
    source: str = ""


_PRODUCT_NAMES = {
    "4.0": "Exchange Server 4.0",
    "5.0": "Exchange Server 5.0",
    "5.5": "Exchange Server 5.5",
    "6.0": "Exchange 2000 Server",
    "6.5": "Exchange Server 2003",
    "8.0": "Exchange Server 2007",
}

# --------------------------------------------------------------------------- identity

_ID_PATTERNS = (
    re.compile(r"^[ \t]*Article(?:\s*ID)?\s*:[ \t]*(Q|KB)?(\d{5,7})\b", re.I | re.M),
    re.compile(r"\bDOCUMENT\s*:\s*(Q|KB)(\d{5,7})\b", re.I),
    re.compile(r"^\s*(?:title\s*:\s*[\"']?|#{1,3}\s*)(Q|KB)(\d{5,7})\s*:", re.I | re.M),
    re.compile(r"previously published under\s+(Q|KB)(\d{5,7})\b", re.I),
    re.compile(r"\A\s*[^\n]{10,250}?\((KB|Q)?(\d{6})\)"),
    re.compile(r"\b(KB|Q)(\d{6})\s*$", re.I),
)


def _article_id(text: str, source: str) -> tuple[str | None, bool]:
    head = text[:6000]
    for pattern in _ID_PATTERNS:
        match = pattern.search(text[-3000:] if pattern is _ID_PATTERNS[-1] else head)
        if match:
            prefix = (match.group(1) or "KB").upper()
            return f"{prefix}{match.group(2)}", True
    match = re.search(r"(?<![A-Za-z0-9])(Q|KB)(\d{5,7})(?![0-9])", Path(source).name, re.I)
    if match:
        return f"{match.group(1).upper()}{match.group(2)}", False
    return None, False


_TITLE_PATTERNS = (
    # `title: "(.+?)"?\s*$` retried the trailing blanks for each length of the title, and the
    # blanks after the colon for each of those: cubic in a run of blanks (6,000 never finished).
    # The rest of the line is taken whole and trimmed in _title, as the pattern trimmed it.
    re.compile(r"^\s*+title\s*+:\s*+\"?([^\n]+)", re.I | re.M),
    re.compile(r"\bTITLE\s*+:\s*+(.+?)\s+(?:PRODUCT\s*:|\n)", re.I),
)


def _title_text(match: re.Match[str]) -> str:
    """The title a `_TITLE_PATTERNS` match gives: trailing blanks and one closing quote off."""
    if match.re is not _TITLE_PATTERNS[0]:
        return match.group(1)
    title = match.group(1).rstrip()
    return title[:-1] if len(title) > 1 and title.endswith('"') else title


def _clean_title(title: str) -> str | None:
    title = re.sub(r"^(?:Q|KB)\d{5,7}\s*:\s*", "", title.strip())
    title = re.sub(r"\s*\((?:KB|Q)?\d{6}\)\s*$", "", title).strip(" \"'")
    return title if 3 <= len(title) <= 300 else None


def _title(text: str, first_heading: int) -> str | None:
    for pattern in _TITLE_PATTERNS:
        match = pattern.search(text[:6000])
        if match and _clean_title(_title_text(match)):
            return _clean_title(_title_text(match))
    for line in text[:first_heading].split("\n"):
        line = line.strip()
        if not line or re.fullmatch(r"[-=_*#\s]+", line) or re.match(r"[A-Z][a-z][\w ()/]*:", line):
            continue
        if line.endswith((":", ".")) or len(line) > 300:
            return None
        return _clean_title(line.lstrip("# "))
    return None


# --------------------------------------------------------------------------- products

_EXCHANGE = re.compile(  # `\s*,?\s*` as `\s*+(?:,\s*+)?`: the same text, no quadratic retries
    r"Exchange(?:\s++Server)?\s*+(?:,\s*+)?(?:version\s++)?(4\.0|5\.0|5\.5|2000|2003|2007)\b"
    r"(?:\s++(?:(?:Enterprise|Standard)\s*+)?(?:Server|Edition))*+"
    r"(?:\s*+(?:,\s*+)?(?:Service\s++Pack\s*+(\d)|SP\s*+(\d)))?(?:\s*+\(SP\d\))?"
    r"(?P<later>\s*+(?:or|and)\s++(?:later|later service packs|newer))?",
    re.I,
)
_VERSION_OF = {"2000": "6.0", "2003": "6.5", "2007": "8.0"}


def _product_list(lines: list[str]) -> list[tuple[ProductFact, str]]:
    found: list[tuple[ProductFact, str]] = []
    for line in lines:
        for match in _EXCHANGE.finditer(line):
            version = _VERSION_OF.get(match.group(1), match.group(1))
            sp_text = match.group(2) or match.group(3)
            sp = int(sp_text) if sp_text else None
            later = bool(match.group("later"))
            fact = ProductFact(version, sp, None if (later or sp is None) else sp)
            found.append((fact, fact.text))
    return found


def _products(text: str, sections: list[Section]) -> tuple[list[ProductFact], list[str]]:
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


def _fixed_in(text: str) -> tuple[str | None, tuple[str, int] | None]:
    match = _FIXED_IN.search(re.sub(r"\s+", " ", text))
    if not match:
        return None, None
    version_match = re.search(r"(5\.5|5\.0|2000|2003|2007)", match.group(1))
    assert version_match is not None
    version = _VERSION_OF.get(version_match.group(1), version_match.group(1))
    sp = int(match.group(2))
    return f"{_PRODUCT_NAMES[version]} SP{sp}", (version, sp)


# --------------------------------------------------------------------------- events

_SYMPTOM_SECTIONS = {"SYMPTOM", "SYMPTOMS", "SUMMARY", "INTRODUCTION"}
_CONTEXT_SECTIONS = {"CAUSE", "MORE INFORMATION"}
_LABEL = re.compile(
    r"(?<![\w-])(?P<label>Event\s*Type|Event\s*Source|Event\s*Category|Event\s*ID|EventID"
    r"|Event|Source|Category|Type|Description|Date|Time|User|Computer)\s*:[ \t]*",
    re.I,
)
_KINDS = {"eventtype": "type", "eventsource": "source", "eventcategory": "category"}
_VALUE_STOP = re.compile(
    r"(?<!\s)\s*(?::|\n|$|(?<![\w-])(?:Event|Source|Category|Type|Description|Date|Time|User|Computer"
    r"|Error)\b)",
    re.I,
)
_VALUE_STOP_HERE = re.compile(_VALUE_STOP.pattern.removeprefix("(?<!\\s)"), re.I)
_DESCRIBED = re.compile(
    r"description for Event ID\s*\(\s*(\d{1,5})\s*\)\s*in Source\s*\(\s*([^)]{1,60}?)\s*\)", re.I
)
_NAMED = re.compile(r"\b(?:message|event)\s+[A-Z]{2,5}(\d{4})\s*:", re.I)
_PROSE = re.compile(  # `\s*[#:]?\s*\(?\s*` as possessive runs: it was cubic in a run of blanks
    r"\bevent(?:\s++log)?(?:\s++(?:ID|IDs|number|error|warning|message))?"
    r"\s*+(?:[#:]\s*+)?(?:\(\s*+)?(\d{3,5})\b"
    r"(?!\s*(?:and|or|,)\s*\d)",
    re.I,
)
_FIX_INTRO = re.compile(
    r"after (?:you )?(?:apply|install)|(?:this|the) (?:hot)?fix|this update|new event|is added",
    re.I,
)
_REFERENCE = re.compile(
    r"^[ \t]*(?:Q|KB)?\d{6}\b[^\n]*$|(?:Q|KB)\d{6}\s*+(?::\s*+)?X[A-Z]{2,4}\s*:[^\n]{0,160}", re.M
)
_CODE = re.compile(  # the linking words taken possessively: "error code code ..." was quadratic
    r"\b0x[0-9a-f]{1,8}\b|(?<![\w-])-\d{6,10}\b"
    r"|\b(?:error|code|status|returned|hr)\b(?:\s*+(?:code|number|value|was|is|of|=|:|#))*+\s*+"
    r"(-?\d{1,10}|[0-9a-f]{8})\b(?![.,]\d)",
    re.I,
)
_HEX_LINE = re.compile(
    r"^[ \t]*(?:[0-9a-f]{4,8}:[ \t]*)?((?:[0-9a-f]{2}[ \t]+){3,}[0-9a-f]{2})[ \t]*$", re.I | re.M
)


@dataclass
class _Mention:
    pos: int
    source: str | None
    event_id: int
    description: str


def _codes(description: str) -> list[str]:
    codes: dict[str, None] = {}  # ordered and unique; `not in list` was quadratic
    for match in _CODE.finditer(description):
        code = match.group(1) or match.group(0)
        if match.group(1) is not None and match.group(0).lower().startswith("0x"):
            code = match.group(0)
        bare = re.fullmatch(r"[0-9]{8}", code) is not None
        if bare and not code.startswith("8"):
            continue
        codes[code] = None
    return list(codes)


MAX_DESCRIPTION = 2000
"""A description is read up to this many characters after its label, and its line's margin
looked for as far back: event descriptions are a few hundred characters, and scanning to the end
of the section for each of thousands of mentions was quadratic."""


def _description_end(text: str, start: int, limit: int) -> int:
    """Where a description starting at `start` ends: a paragraph break back at the margin."""
    limit = min(limit, start + MAX_DESCRIPTION)
    line_start = text.rfind("\n", max(0, start - MAX_DESCRIPTION), start) + 1
    indent = len(text[line_start:start]) - len(text[line_start:start].lstrip(" "))
    pos = start
    while True:
        brk = text.find("\n\n", pos, limit)
        if brk < 0:
            return limit
        nxt = brk + 2
        while nxt < limit and text[nxt] == "\n":
            nxt += 1
        eol = text.find("\n", nxt, limit)
        line = text[nxt : eol if eol >= 0 else limit]
        margin = len(line) - len(line.lstrip(" ")) <= indent
        if line.strip() and margin and text[start:brk].strip():
            return brk
        pos = nxt
        if pos >= limit:
            return limit


def _source_value(text: str, start: int) -> str | None:
    # The first stop at `start`, else after a non-blank (from inside a run of blanks, the run's
    # start would have matched first): each run is read from its start only, not from each blank.
    stop = _VALUE_STOP_HERE.match(text, start) or _VALUE_STOP.search(text, start + 1)
    end = stop.start() if stop else len(text)
    value = " ".join(text[start:end].split())
    value = value.strip(" .,;()'\"")
    if not value or len(value.split()) > 4 or len(value) > 60:
        return None
    return value


def _blocks(text: str, start: int, end: int) -> list[_Mention]:
    """`Event ID:`/`Source:`/`Description:` blocks (any order) inside text[start:end]."""
    mentions: list[_Mention] = []
    labels = list(_LABEL.finditer(text, start, end))
    blocks: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    kinds: set[str] = set()
    for match in labels:
        key = re.sub(r"\s+", "", match.group("label").lower())
        kind = _KINDS.get(key, "id" if key in ("eventid", "event") else key)
        if kind in kinds or (current and match.start() - current[-1].end() > 1500):
            blocks.append(current)
            current, kinds = [], set()
        current.append(match)
        kinds.add(kind)
    if current:
        blocks.append(current)
    for index, block in enumerate(blocks):
        limit = blocks[index + 1][0].start() if index + 1 < len(blocks) else end
        event_id = None
        source = None
        described_at = block[-1].end()
        for match in block:
            key = re.sub(r"\s+", "", match.group("label").lower())
            if key in ("eventid", "event"):
                number = re.match(r"\s*\(?\s*(\d{1,5})\b", text[match.end() : match.end() + 20])
                if number:
                    event_id = int(number.group(1))
                    described_at = max(described_at, match.end() + number.end())
            elif key in ("source", "eventsource"):
                source = _source_value(text, match.end())
            elif key == "description":
                described_at = match.end()
        if event_id is None:
            continue
        stop = _description_end(text, described_at, limit)
        mentions.append(_Mention(block[0].start(), source, event_id, text[described_at:stop]))
    return mentions


def _other_mentions(text: str, start: int, end: int, prose: bool) -> list[_Mention]:
    mentions: list[_Mention] = []
    for match in _DESCRIBED.finditer(text, start, end):
        stop = _description_end(text, match.end(), end)
        mentions.append(
            _Mention(
                match.start(), match.group(2).strip(), int(match.group(1)), text[match.end() : stop]
            )
        )
    named = list(_NAMED.finditer(text, start, end))
    for index, match in enumerate(named):
        limit = named[index + 1].start() if index + 1 < len(named) else end
        stop = _description_end(text, match.end(), limit)
        mentions.append(
            _Mention(match.start(), None, int(match.group(1)), text[match.end() : stop])
        )
    if prose:
        # The sentence start and the fix intros move forward with the matches, each part of the
        # text read once (searching back to the section start per match was quadratic). Intros
        # hold no '.' or newline, so none straddles a sentence start.
        intros = [(m.start(), m.end()) for m in _FIX_INTRO.finditer(text, start, end)]
        sentence_start, read_to, first = start - 1, start, 0
        for match in _PROSE.finditer(text, start, end):
            here = match.start()
            sentence_start = max(
                sentence_start,
                text.rfind(".", read_to, here),
                text.rfind("\n\n", max(start, read_to - 1), here),
            )
            read_to = here
            while first < len(intros) and intros[first][0] <= sentence_start:
                first += 1
            if first < len(intros) and intros[first][1] <= here:
                continue
            after = text[match.end() : match.end() + 1]
            if after in ("-", ".") and text[match.end() + 1 : match.end() + 2].isdigit():
                continue
            mentions.append(_Mention(match.start(), None, int(match.group(1)), ""))
    return mentions


def _mask_references(text: str) -> str:
    """Blank out lines naming other articles (their titles are not symptoms)."""
    return _REFERENCE.sub(lambda m: " " * len(m.group(0)), text)


def _events(text: str, sections: list[Section], warnings: list[str]) -> list[EventFact]:
    masked = _mask_references(text)
    mentions: list[_Mention] = []
    has_symptoms = any(s.name in _SYMPTOM_SECTIONS for s in sections)
    for section in sections:
        name = section.name
        in_symptoms = name in _SYMPTOM_SECTIONS or (name == "" and not has_symptoms)
        title_part = name == ""
        if in_symptoms or title_part:
            mentions += _blocks(masked, section.start, section.end)
            mentions += _other_mentions(masked, section.start, section.end, prose=True)
        elif name in _CONTEXT_SECTIONS:
            for mention in _blocks(masked, section.start, section.end) + _other_mentions(
                masked, section.start, section.end, prose=False
            ):
                before = masked[max(section.start, mention.pos - 300) : mention.pos]
                if not _FIX_INTRO.search(before):
                    mentions.append(mention)
    mentions.sort(key=lambda m: m.pos)
    facts: list[dict[str, Any]] = []
    by_id: dict[int, list[dict[str, Any]]] = {}  # filtering all facts per mention was quadratic
    for mention in mentions:
        if not 1 <= mention.event_id <= 65535:
            continue
        same = by_id.get(mention.event_id, [])
        match = next((f for f in same if f["source"] == mention.source), None)
        if match is None and mention.source is None and same:
            match = same[0]
        if match is None and mention.source is not None:
            match = next((f for f in same if f["source"] is None), None)
            if match is not None:
                match["source"] = mention.source
        if match is None:
            match = {
                "source": mention.source,
                "event_id": mention.event_id,
                "codes": [],
                "data": None,
            }
            facts.append(match)
            by_id.setdefault(mention.event_id, []).append(match)
        for code in _codes(mention.description):
            if code not in match["codes"]:
                match["codes"].append(code)
        hexes = _HEX_LINE.search(mention.description)
        if hexes and match["data"] is None:
            match["data"] = " ".join(hexes.group(1).lower().split())
    _data_from_context(text, sections, facts)
    for fact in facts:
        if fact["source"] is None:
            warnings.append(f"event {fact['event_id']}: the article names no source")
    return [EventFact(f["source"], f["event_id"], tuple(f["codes"]), f["data"]) for f in facts]


def _data_from_context(text: str, sections: list[Section], facts: list[dict[str, Any]]) -> None:
    """Event data bytes given in the cause, and the error codes those bytes spell."""
    for section in sections:
        if section.name not in _CONTEXT_SECTIONS and section.name not in _SYMPTOM_SECTIONS:
            continue
        body = text[section.start : section.end]
        hexes = _HEX_LINE.search(body)
        if not hexes:
            continue
        named = {int(n) for n in re.findall(r"\bevent(?:\s+ID)?\s+(\d{3,5})\b", body, re.I)}
        targets = [f for f in facts if f["event_id"] in named] or (facts if len(facts) == 1 else [])
        if len(targets) == 1 and targets[0]["data"] is None:
            targets[0]["data"] = " ".join(hexes.group(1).lower().split())
    spelled: list[str] | None = None  # found once for all facts, not once per fact
    for fact in facts:
        if not fact["data"]:
            continue
        data = fact["data"].replace(" ", "")
        if spelled is None:
            spelled = re.findall(r"\b(?:0x)?([0-9a-fA-F]{8})\b", text)
        for code in spelled:
            little = "".join(reversed([code[i : i + 2] for i in range(0, 8, 2)])).lower()
            if little in data and code not in fact["codes"] and f"0x{code}" not in fact["codes"]:
                fact["codes"].append(code)


# --------------------------------------------------------------------------- fix table

_VERSION = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,5}(?:\.\d{1,6})?$")
_NA = re.compile(r"^(?:N/?A|Not\s*applicable|-)$", re.I)
_FILE = re.compile(r"^[\w$~-][\w$~.-]*\.[A-Za-z][A-Za-z0-9_]{0,5}$")
_KNOWN_EXT = frozenset((
    "exe", "dll", "sch", "cfg", "tpl", "xv2", "cat", "ocx", "sys", "com", "ini", "inf", "xml",
    "msc", "cpl", "drv", "hlp", "chm", "txt", "dat", "mdb", "vbs", "js", "asp", "aspx", "cab",
    "msi", "msp", "dic", "mta",
))  # fmt: skip
_HEADER = re.compile(r"file\s*name.*version|version.*file\s*name|^\W*file\W+version\b", re.I)
_FILE_NAME_WORD = re.compile(r"file\s*name", re.I)
_VERSION_WORD = re.compile(r"version", re.I)
_FILE_VERSION_START = re.compile(r"\W*file\W+version\b", re.I)


def _is_header(line: str) -> bool:
    """_HEADER.search(line) in linear time: `.*` retried from each `file name` was quadratic.

    Its first two parts need one word somewhere after the other; the first occurrence of the
    first word leaves the most room for the second.
    """
    name = _FILE_NAME_WORD.search(line)
    if name and _VERSION_WORD.search(line, name.end()):
        return True
    version = _VERSION_WORD.search(line)
    if version and _FILE_NAME_WORD.search(line, version.end()):
        return True
    return _FILE_VERSION_START.match(line) is not None


_PACKAGE_HINT = re.compile(r"download|package", re.I)
_INSTALLED_HINT = re.compile(
    r"file attributes|installed|update files|files? (?:is|are) (?:updated|replaced)", re.I
)
_PLATFORMS = {"intel": "intel", "x86": "intel", "i386": "intel", "alpha": "alpha", "axp": "alpha"}


def _split_run_together(cell: str) -> tuple[str, str] | None:
    options: list[tuple[int, str, str]] = []
    for match in re.finditer(r"\.([A-Za-z][A-Za-z0-9_]{0,5})", cell):
        for length in range(1, len(match.group(1)) + 1):
            cut = match.start(1) + length
            name, rest = cell[:cut], cell[cut:]
            if not _FILE.match(name) or not (_VERSION.match(rest) or rest.upper() == "N/A"):
                continue
            ext = name.rsplit(".", 1)[1].lower()
            rank = 0 if ext in _KNOWN_EXT else 1 if ext.isalpha() else 2
            major = int(rest.split(".")[0]) if rest[0].isdigit() else 0
            options.append((rank * 1000 + major, name, rest))
    if not options:
        return None
    _, name, version = min(options)
    return name, version


MAX_CELL = 300
"""A table cell longer than this is no file name (at most 260 characters, MAX_PATH) nor version."""


def _row(line: str) -> tuple[str, str | None, str | None, bool] | None:
    """(file, version, platform, has_version_token) from a table line, or None."""
    tokens = [t for t in re.split(r"[\s|]+", line.strip()) if t]
    if any(len(token) > MAX_CELL for token in tokens):
        return None  # not a table row; and the patterns below would try every cut of it
    files: list[str] = []
    version: str | None = None
    na = False
    platform: str | None = None
    for token in tokens:
        clean = token.strip(",;*")
        if _VERSION.match(clean):
            version = version or clean
        elif _NA.match(clean):
            na = True
        elif clean.lower() in _PLATFORMS:
            platform = _PLATFORMS[clean.lower()]
        elif re.search(r"[A-Za-z]\w*\d+\.\d+\.\d+(?:\.\d+)?$", clean) and (
            split := _split_run_together(clean)
        ):
            files.append(split[0])
            version = version or split[1]
        elif _FILE.match(clean) and not re.fullmatch(r"[\d.]+", clean):
            files.append(clean)
        elif re.fullmatch(r"[\w$~-][\w$~.-]*\.[A-Za-z]\w*N/A", clean, re.I):
            files.append(clean[:-3])
            na = True
    if len(files) != 1:
        return None
    if version is None and not na:
        return files[0], None, platform, False
    return files[0], version, platform, True


def _fix_files(text: str, warnings: list[str]) -> list[FixRow]:
    rows: list[FixRow] = []
    lines = text.split("\n")
    component: str | None = None
    platform_heading: str | None = None
    index = 0
    seen_tables = 0
    while index < len(lines):
        line = lines[index]
        # `Component: (.+?)\s*$` retried the trailing blanks for every length: read it by hand.
        comp = re.search(r"\bComponent\s*+:", line)
        value = line[comp.end() :] if comp else ""
        if value:
            value = value.strip() or value[-1]
            if len(value) <= 80:
                component = value.strip(" .")
        heading = re.fullmatch(
            r"\s*(?:For\s+)?(Intel|Alpha|x86)(?:[- ]based)?(?:\s++\w++){0,2}\s*+(?::\s*+)?",
            line,
            re.I,
        )
        if heading:
            platform_heading = _PLATFORMS[heading.group(1).lower()]
        if len(line) > 200 or not _HEADER.search(line):
            index += 1
            continue
        seen_tables += 1
        before = " ".join(lines[max(0, index - 4) : index])
        package = bool(re.search(r"package", line, re.I)) or (
            bool(_PACKAGE_HINT.search(before)) and not _INSTALLED_HINT.search(before)
        )
        table: list[FixRow] = []
        index += 1
        blanks = 0
        while index < len(lines):
            line = lines[index]
            stripped = line.strip()
            if not stripped or re.fullmatch(r"[-=+|_\s]+", stripped):
                blanks += not stripped
                if blanks > 1 and table:
                    break
                index += 1
                continue
            blanks = 0
            if _is_header(line):
                break
            parsed = _row(line)
            if parsed is None:
                break
            name, version, platform, _ = parsed
            table.append(FixRow(name, version, platform or platform_heading, component))
            index += 1
        if package:
            warnings.append(f"skipped a package table of {len(table)} row(s) (not installed files)")
            continue
        kept = [r for r in table if not re.match(r"^(?:Q|KB)\d{5,7}|.*-KB\d{5,7}", r.file, re.I)]
        rows += kept
    if seen_tables and not rows:
        warnings.append("found a file table header but could not read any rows")
    return rows


# --------------------------------------------------------------------------- extract


def extract(text: str, source: str = "<text>") -> ArticleFacts:
    """The facts of one article's text (never raises on odd text; warnings say what's unsure)."""
    warnings: list[str] = []
    text = normalise(text)
    sections = split_sections(text)
    article, self_named = _article_id(text, source)
    if article is None:
        warnings.append("the article does not name itself (no Q/KB number found)")
    elif not self_named:
        warnings.append(f"article number {article} taken from the file name")
    title = _title(text, sections[1].heading if len(sections) > 1 else len(text))
    if title is None:
        warnings.append("no title found")
    ranges, products = _products(text, sections)
    if not products:
        warnings.append("no Exchange product or version found")
    events = _events(text, sections, warnings)
    if not events:
        warnings.append("no symptom events found")
    fix_files = _fix_files(text, warnings)
    fixed_in, fixed_in_sp = _fixed_in(text)
    if fixed_in is None and not fix_files:
        warnings.append("no fixing service pack and no file table found")
    references = []
    for ref in re.findall(r"\b(?:Q|KB)\d{6}\b", text):
        if ref != article and ref not in references:
            references.append(ref)
    return ArticleFacts(
        article=article,
        title=title,
        products=products,
        events=events,
        fix_files=fix_files,
        fixed_in=fixed_in,
        warnings=warnings,
        ranges=ranges,
        fixed_in_sp=fixed_in_sp,
        references=references[:20],
        source=source,
    )
