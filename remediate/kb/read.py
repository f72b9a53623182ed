"""Reading a KB article file: bytes to text (BOMs, UTF-8, cp1252), saved HTML to text, and
the text's layout (normalised lines, the article's headed sections).

The first step of the importer's flow (read -> extract -> draft); nothing here interprets facts.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from remediate.errors import InputError

# --------------------------------------------------------------------------- reading


class _HtmlText(HTMLParser):
    """HTML to text: blocks on their own lines, table cells separated by wide gaps."""

    _BLOCK = {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5",
        "h6", "pre", "blockquote", "section", "article", "dd", "dt", "dl", "hr",
        "thead", "tbody",
    }  # fmt: skip
    _SKIP = {"script", "style", "noscript", "nav", "header", "footer", "head", "svg", "button"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.pre = 0
        self.heading: list[str] | None = None
        self.h1 = ""
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in self._SKIP:
            self.skip += 1
        elif tag == "pre":
            self.pre += 1
        if tag == "li":
            # a list item keeps its marker, so a procedure's steps stay steps (kb.procedure)
            self.parts.append("\n- ")
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("   ")
        if tag == "h1" and not self.h1:
            self.heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in self._SKIP and self.skip:
            self.skip -= 1
        elif tag == "pre" and self.pre:
            self.pre -= 1
        if tag in self._BLOCK or tag in ("h1", "h2", "h3"):
            self.parts.append("\n")
        if tag == "h1" and self.heading is not None:
            self.h1 = " ".join("".join(self.heading).split())
            self.heading = None

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
        self.parts.append(data)
        if self.heading is not None:
            self.heading.append(data)


def _defuse(markup: str) -> str:
    """Unclosed `<` and `<!--` as text, before html.parser sees them.

    html.parser looks for the end of an unclosed tag or comment through the rest of the page,
    then again from the next character: quadratic ("<!--" x 8,000 took 0.7 s, x 80,000 a
    minute). A `<` after the last `>` and a `<!--` after the last `-->` cannot close, so they
    are written as `&lt;` (text, as html.parser would have shown them).
    """
    last = markup.rfind(">") + 1
    if "<" in markup[last:]:
        markup = markup[:last] + markup[last:].replace("<", "&lt;")
    last = markup.rfind("-->") + 3 if "-->" in markup else 0
    if "<!--" in markup[last:]:
        markup = markup[:last] + markup[last:].replace("<!--", "&lt;!--")
    return markup


def html_to_text(markup: str) -> str:
    """The readable text of an HTML page (title first, as a `title:` line)."""
    markup = _defuse(markup)
    parser = _HtmlText()
    with contextlib.suppress(Exception):  # html.parser is lenient; odd markup keeps its text
        parser.feed(markup)
        parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    title = parser.h1 or " ".join(parser.title.split())
    return f'title: "{title}"\n\n{text}' if title else text


_HTML_HINT = re.compile(r"<(?:!doctype\s+html|html|body|head|div|p|table|h[1-6])\b", re.I)


MAX_ARTICLE_BYTES = 4 * 1024 * 1024
"""A file larger than this is no KB article: the longest Microsoft KB articles are some 100 KB
of text, their saved pages some hundreds of KB. Refused before reading, with a clear error."""

MAX_ARTICLE_CHARS = 1024 * 1024
"""The article's text (after HTML) is read up to this many characters; the extraction is linear
in it, and 1 MB reads in a few seconds whatever it holds."""


def decode_article(data: bytes, name: str) -> str:
    """Bytes to text: BOM (UTF-8/16/32), else UTF-8, else cp1252; binary is an InputError."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise InputError(
            f"{name}: a file of more than {MAX_ARTICLE_BYTES:,} bytes is not a KB article;"
            f" articles are read up to {MAX_ARTICLE_BYTES:,} bytes"
        )
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            break
    else:
        head = data[:8192]
        controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
        if b"\x00" in head or (head and controls / len(head) > 0.05):
            raise InputError(f"{name}: a binary file, not a KB article (expected text or HTML)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise InputError(f"{name}: a binary file, not a KB article (expected text or HTML)")
    if not text.strip():
        raise InputError(f"{name}: the file is empty")
    if _HTML_HINT.search(text[:20000]) and re.search(r"</\w+>", text):
        text = html_to_text(text)
        if not text.strip():
            raise InputError(f"{name}: the HTML page has no text")
    if len(text) > MAX_ARTICLE_CHARS:
        raise InputError(
            f"{name}: {len(text):,} characters of text is not a KB article; articles are read"
            f" up to {MAX_ARTICLE_CHARS:,} characters"
        )
    return text


def read_article(path: str | Path) -> str:
    """The text of the article at `path` (InputError if unreadable, empty or binary)."""
    try:
        with Path(path).open("rb") as stream:
            data = stream.read(MAX_ARTICLE_BYTES + 1)  # no more: a larger file is refused
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return decode_article(data, str(path))


# --------------------------------------------------------------------------- layout


_HEADINGS = (
    "SYMPTOMS?|CAUSE|RESOLUTION|WORKAROUND|STATUS|MORE INFORMATION|SUMMARY|REFERENCES"
    "|APPLIES TO|INTRODUCTION|PROPERTIES|KEYWORDS"
)
_HEADING_LINE = re.compile(  # possessive blanks: `[ \t]*:?[ \t]*` was quadratic in a blank run
    rf"^[ \t]*+(?:#{{1,4}}[ \t]*+)?({_HEADINGS})[ \t]*+(?::[ \t]*+)?\n"
    rf"(?:[ \t]*+[=\-]{{3,}}+[ \t]*+\n)?",
    re.I | re.M,
)
_FOOTER = re.compile(
    r"^[ \t]*(?:Additional query words|Modification Type|Keywords\s*:)", re.I | re.M
)


def _unflatten(text: str) -> str:
    """Put the parts of a one-line article (headings, table borders, rows) on lines.

    Each pattern starts only where a run of blanks starts and takes the run whole (`(?<!...)`,
    `++`): tried from every blank of a long run, as before, they were quadratic (minutes for a
    line of 256 KB of spaces). The matches are the same: the leftmost one always began there.
    """
    text = re.sub(rf"(?<![ \t])[ \t]++({_HEADINGS})[ \t]+(={{3,}})[ \t]+", r"\n\n\1\n\2\n", text)
    text = re.sub(r"(?<![ \t])[ \t]*+(\+[-=+]{3,}\+)[ \t]*", r"\n\1\n", text)
    text = re.sub(r"(?<![ \t])[ \t]++(Component\s*:)", r"\n\1", text)
    text = re.sub(r"(?<![ \t])[ \t]++(Additional query words\s*:|={20,})", r"\n\1", text)
    return text


def normalise(text: str) -> str:
    """Plain line ends, dashes, bullets and spaces; a one-line article put back on lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2022", "-")
    text = text.replace("\u200b", "").replace("\ufeff", "")
    if any(len(line) > 1500 for line in text.split("\n", 200)[:200]):
        text = _unflatten(text)
    return text.expandtabs(8)


@dataclass(frozen=True)
class Section:
    """One headed part of the article, as offsets into the normalised text."""

    name: str  # upper-case heading, or "" for the text before the first heading
    start: int
    end: int
    heading: int = 0  # where the heading line starts


_FIELD_LINE = re.compile(r"[A-Z][A-Z/]++[ \t]*+:")
"""A line of the archive's header block, at the margin: `OPER/SYS:`, `PRODUCT :Microsoft ...`."""


def _is_header_field(text: str, start: int) -> bool:
    """A `KEYWORDS:` (or any heading word with a colon) right under another `FIELD:` line, no
    blank between, is one more field of that block: the archive's header ends `OPER/SYS:` /
    `KEYWORDS:` with both often empty, and taken for a heading it hid the footer (1,565 of the
    6,400 Exchange articles kept "Additional query words" in their last section)."""
    if start == 0:
        return False
    above = text[text.rfind("\n", 0, start - 1) + 1 : start]
    return _FIELD_LINE.match(above) is not None


def _header_end(text: str) -> int:
    """Where the archive's header block (its leading `FIELD:` lines) ends; 0 if it has none."""
    end = 0
    while _FIELD_LINE.match(text, end):
        newline = text.find("\n", end)
        if newline < 0:
            return len(text)
        end = newline + 1
    return end


def _is_heading(match: re.Match[str], text: str) -> bool:
    """A heading stands at the margin, or is underlined, upper-case or marked with `#`: an
    indented "   Properties" or "   Status:" in a listing is a line of it, and taking it for a
    heading cut the section short (issue 19). It starts with a capital: a line that starts
    "properties:" ends the sentence above ("... of the server's\nproperties:"). And it is no
    field of a header block (`_is_header_field`)."""
    line = match.group(0)
    marked = "#" in line
    if not marked and match.group(1)[0].islower():
        return False
    if ":" in line and not marked and _is_header_field(text, match.start()):
        return False
    return (
        not line[:1].isspace()
        or marked
        or line.count("\n") > 1  # underlined
        or match.group(1).isupper()
    )


def split_sections(text: str) -> list[Section]:
    """The sections in order, the text before the first heading first; the footer is cut off."""
    marks = [
        (m.start(), m.end(), m.group(1).upper())
        for m in _HEADING_LINE.finditer(text)
        if _is_heading(m, text)
    ]
    # The archive's header has its own `KEYWORDS:` line: the footer is looked for after the
    # header block, or the header's line would be taken for it and the real footer
    # ("Additional query words: ...") read as part of the last section. Not from the first
    # heading: in an article with no other heading, that is the footer's own `Keywords   :`.
    body_start = _header_end(text) or (marks[0][0] if marks else max(text.find("\n\n"), 0))
    footer = _FOOTER.search(text, body_start)
    sections = []
    starts = [(0, 0, ""), *marks]
    for i, (heading, body, name) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        if footer and body <= footer.start() < stop:
            stop = footer.start()
        sections.append(Section(name, body, max(body, stop), heading))
    return sections
