"""The fix's file table: the files (and versions) a hotfix or service pack installs."""

from __future__ import annotations

import re

from remediate.kb.facts import VERSION_OF, FixRow

_VERSION = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,5}(?:\.\d{1,6})?$")
_SHORT_VERSION = re.compile(r"^\d{1,5}\.\d{1,5}$")
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


_FIX_HINT = re.compile(
    r"\b(?:fix|hotfix|updated?|updates|service\s+pack|file\s+attributes|feature|patch|QFE)", re.I
)
_REFERENCE_HINT = re.compile(  # a table to check against, or of builds: not what the fix installs
    r"\b(?:verify|make\s+sure|check\s+whether|build\s+numbers?|for\s+reference"
    r"|installed\s+on\s+the\s+(?:workstation|client))",
    re.I,
)
_PRODUCT_LINE = re.compile(
    r"[ \t]*+(?:For\s++|On\s++)?(?:Microsoft\s++)?Exchange(?:\s++Server)?\s*+(?:version\s++)?"
    r"(?P<version>4\.0|5\.0|5\.5|2000|2003|2007)\b[^:\n]{0,40}:?[ \t]*+",
    re.I,
)


_BORDER = re.compile(r"[ \t]*+\+[-=+]{3,}\+[ \t]*+")
_COMPONENT = re.compile(r"\bComponent\s*+:")
_PLATFORM_HEADING = re.compile(
    r"\s*(?:For\s+)?(Intel|Alpha|x86)(?:[- ]based)?(?:\s++\w++){0,2}\s*+(?::\s*+)?", re.I
)


def _headerless_box(lines: list[str], index: int) -> bool:
    """A boxed table with no header row: a border, then a file and its version, after words
    that introduce the fix ("... the following file attributes or later:")."""
    if not _BORDER.fullmatch(lines[index]) or index + 1 >= len(lines):
        return False
    if (index > 0 and _BORDER.fullmatch(lines[index - 1])) or _is_header(lines[index + 1]):
        return False
    row = _row(lines[index + 1]) if len(lines[index + 1]) <= 200 else None
    intro = " ".join(lines[max(0, index - 6) : index])
    return row is not None and row[3] and bool(_FIX_HINT.search(intro))


def _product_heading(lines: list[str]) -> str | None:
    """The Exchange version a line just above a table names ("Exchange 2000 Server:"): the
    same file listed for several versions keeps each row's version."""
    for line in reversed(lines):
        match = _PRODUCT_LINE.fullmatch(line) if len(line) <= 100 else None
        if match:
            return VERSION_OF.get(match.group("version"), match.group("version"))
    return None


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
    short_version: str | None = None
    for token in tokens:
        clean = token.strip(",;*")
        base = re.split(r"[\\/]", clean)[-1]
        if base != clean and _FILE.match(base):
            clean = base  # %EXSRVROOT%\Bin\Imcmsg.dll: the file's name (N/A stays N/A)
        if _VERSION.match(clean):
            version = version or clean
        elif _SHORT_VERSION.match(clean):
            short_version = short_version or clean  # "1459.73": a build as some tables give it
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
    version = version or short_version
    if version is None and not na:
        return files[0], None, platform, False
    return files[0], version, platform, True


def fix_files(text: str, warnings: list[str]) -> list[FixRow]:
    rows: list[FixRow] = []
    lines = text.split("\n")
    component: str | None = None
    platform_heading: str | None = None
    index = 0
    seen_tables = 0
    while index < len(lines):
        line = lines[index]
        if not line or line.isspace():  # most lines of a long article: nothing to read here
            index += 1
            continue
        # `Component: (.+?)\s*$` retried the trailing blanks for every length: read it by hand.
        comp = _COMPONENT.search(line)
        value = line[comp.end() :] if comp else ""
        if value:
            value = value.strip() or value[-1]
            if len(value) <= 80:
                component = value.strip(" .")
        heading = _PLATFORM_HEADING.fullmatch(line)
        if heading:
            platform_heading = _PLATFORMS[heading.group(1).lower()]
        if len(line) > 200 or not (_HEADER.search(line) or _headerless_box(lines, index)):
            index += 1
            continue
        seen_tables += 1
        before = " ".join(lines[max(0, index - 4) : index])
        intro = " ".join(lines[max(0, index - 6) : index])
        reference = bool(_REFERENCE_HINT.search(intro)) and not _FIX_HINT.search(intro)
        product = _product_heading(lines[max(0, index - 4) : index])
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
            table.append(FixRow(name, version, platform or platform_heading, component, product))
            index += 1
        if package:
            warnings.append(f"skipped a package table of {len(table)} row(s) (not installed files)")
            continue
        if reference:
            warnings.append(f"skipped a table of {len(table)} file(s) to check (not the fix's)")
            continue
        kept = [r for r in table if not re.match(r"^(?:Q|KB)\d{5,7}|.*-KB\d{5,7}", r.file, re.I)]
        rows += kept
    if seen_tables and not rows:
        warnings.append("found a file table header but could not read any rows")
    return rows
