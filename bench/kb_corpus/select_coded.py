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
RULES = {"coded": CODE_WORDING, "numbered": NUMBERED_WORDING}


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
    for rel in random.Random(args.seed).sample(pool, args.count):
        print(rel)


if __name__ == "__main__":
    main()
