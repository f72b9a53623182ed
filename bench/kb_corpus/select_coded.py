"""Choose articles rich in error codes for a corpus split, reproducibly (issue 19).

    python bench/kb_corpus/select_coded.py ARCHIVE --seed N --count K

The rule, written down so the choice can be checked: among the archive's articles whose
PRODUCT line names Exchange (as the scorer's sweep reads them) and that are not yet in
corpus.json, keep those where an error word (error, code, status, exception, HRESULT, failed,
failure, returned) is followed within 40 characters on the same line by a hex value
(0x..., or 4+ hex digits with a digit and a letter) or a number of 2+ digits; sort their paths,
then `random.Random(seed).sample(...)` picks K. Codes are present to measure in what this
picks, whether or not the importer reads them: the rule knows nothing of the importer.

`--rule numbered` (dev growth, seed 2026194) keeps instead the Exchange articles where an error
word is followed within 40 characters on the same line by a decimal in parentheses ("(1067)",
"(-2147467259)") or where an "ID number", "error number" or "status code" phrase appears:
layouts the first rule under-samples, whose codes are named rather than introduced.

`--rule era` (held3 and dev growth, issue 19's third round) draws by product era instead of by
wording, so no one phrasing of a code is favoured: among the Exchange articles that mention an
event ID or match either wording above, each is filed under the newest Exchange version its
PROD/VER header line or its "applies to" list names (4.0 and 5.0 together, 5.5, 2000, 2003;
articles naming none are left out), and K is drawn as evenly as the eras allow, each era's
sorted paths sampled with `random.Random(seed)`.

`--rule fixtable` (held5 and dev growth, issue 19's sixth round) keeps the Exchange articles
with a line naming both a file (`name.dll`, `.exe`, `.sys`, `.ocx`, `.cpl`, `.cnv`, `.mdb`,
`.inf`) and a dotted version of three or four parts, in either order: the rows of a fix table,
in whatever layout, so fix tables are measured on more than the few the other rules catch.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
CODE_WORDING = re.compile(
    r"\b(?:error|code|status|exception|hresult|failed|failure|returned)\b[^\n]{0,40}?"
    r"(?:\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{4,}\b|(?<![\w.])-?\d{2,}\b)",
    re.I,
)
NUMBERED_WORDING = re.compile(
    r"\b(?:error|code|status|exception|hresult|failed|failure|returned)\b[^\n]{0,40}?"
    r"\(-?\d+\)|\b(?:id number|error number|status code)\b",
    re.I,
)
EVENT_WORDING = re.compile(r"\bevent\s*(?:id\b|\d{2,5}\b)", re.I)
ERA_WORDING = re.compile(
    "|".join(f"(?:{rule.pattern})" for rule in (CODE_WORDING, NUMBERED_WORDING, EVENT_WORDING)),
    re.I,
)
_FILE = r"\b[\w-]+\.(?:dll|exe|sys|ocx|cpl|cnv|mdb|inf)\b"
_VERSION = r"\b\d+\.\d+\.\d+(?:\.\d+)?\b"
FIX_TABLE_ROW = re.compile(rf"(?im)^[^\n]*{_FILE}[^\n]*{_VERSION}|^[^\n]*{_VERSION}[^\n]*{_FILE}")
RULES = {
    "coded": CODE_WORDING,
    "numbered": NUMBERED_WORDING,
    "era": ERA_WORDING,
    "fixtable": FIX_TABLE_ROW,
}
ERAS = {"4.0": "4.0-5.0", "5.0": "4.0-5.0", "5.5": "5.5", "6.0": "2000", "6.5": "2003"}
PROD_VER = re.compile(r"(?im)^PROD/VER\s*:(.*)$")


APPLIES_TO = re.compile(r"(?i)applies to:(.{0,600})", re.S)
NAMED_ERA = re.compile(r"(?i)exchange(?: server)? (2000|2003)")


def era(archive: Path, rel: str) -> str | None:
    """The newest Exchange era the article's PROD/VER header or applies-to list names."""
    head = (archive / rel).read_text(encoding="latin-1")[:3000]
    found = PROD_VER.search(head[:800])
    named = [v for v in re.findall(r"\d+\.\d+", found.group(1)) if v in ERAS] if found else []
    applies = APPLIES_TO.search(head)
    years = {"2000": "6.0", "2003": "6.5"}
    named += [years[year] for year in NAMED_ERA.findall(applies.group(1))] if applies else []
    return ERAS[max(named, key=float)] if named else None


def by_era(archive: Path, pool: list[str], seed: int, count: int) -> list[str]:
    """`count` paths spread as evenly as the eras allow, each era sampled with `seed`."""
    eras: dict[str, list[str]] = {}
    for rel in pool:
        name = era(archive, rel)
        if name:
            eras.setdefault(name, []).append(rel)
    picked: list[str] = []
    share, names = count, sorted(eras, key=lambda name: len(eras[name]))
    for index, name in enumerate(names):
        take = min(len(eras[name]), share // (len(names) - index))
        picked += random.Random(seed).sample(eras[name], take)
        share -= take
    return picked


def candidates(archive: Path, wording: re.Pattern[str] = CODE_WORDING) -> list[str]:
    known = {row["path"] for row in json.loads((CORPUS / "corpus.json").read_text("utf-8"))}
    chosen = []
    for path in sorted(archive.glob("txt/*/*.TXT")):
        text = path.read_text(encoding="latin-1")
        rel = path.relative_to(archive).as_posix()
        if rel in known or not re.search(r"(?im)^PRODUCT\s*:.*exchange", text[:600]):
            continue
        if wording.search(text):
            chosen.append(rel)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rule", choices=sorted(RULES), default="coded")
    args = parser.parse_args()
    pool = candidates(args.archive, RULES[args.rule])
    print(f"{len(pool)} candidates")
    if args.rule == "era":
        chosen = by_era(args.archive, pool, args.seed, args.count)
    else:
        chosen = random.Random(args.seed).sample(pool, args.count)
    for rel in chosen:
        print(rel)


if __name__ == "__main__":
    main()
