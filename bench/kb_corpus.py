"""How well the KB importer reads real articles it was not written for (issue 19; not CI).

    python bench/kb_corpus.py ARCHIVE [--split dev|held|held2|held3|held4|held5|all]
                                      [--show Q123456] [--misses]
    python bench/kb_corpus.py ARCHIVE --sweep [--limit N]

ARCHIVE is an extracted copy of the public KB archive (github.com/jeffpar/kbarchive: its `txt/`
folder). The corpus is bench/kb_corpus/corpus.json (article paths, why each was chosen, its
split) and bench/kb_corpus/labels/<ARTICLE>.json, labelled by hand from the article alone
(the labelling guide is bench/kb_corpus/README.md). No article text is kept here.

Scores, per field, precision / recall / F1 over the labelled articles of the split, summed over
articles (micro): events as (source, event ID) pairs and as IDs alone, error codes, fix rows
(file, version), Exchange versions; fixed_in as accuracy; and the share of articles right in
every field. `held` and `held2` to `held5` are the parts nobody tuning the importer looks at:
report them, never tune on them (`held2`: 40 articles rich in error codes, `held3`: 40 drawn by
product era, `held4`: 20 of each way, `held5`: 20 by era and 20 with a fix-table row, all chosen
by bench/kb_corpus/select_coded.py and labelled before the importer was run on them).

`--sweep` reads every Exchange article of the archive (PRODUCT line naming Exchange): crashes
(must be none), time per article, and how many drafts are refused or are valid playbooks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from remediate.errors import InputError  # noqa: E402
from remediate.kb.draft import draft_playbook, playbook_yaml  # noqa: E402
from remediate.kb.extract import ArticleFacts, extract  # noqa: E402
from remediate.kb.read import read_article  # noqa: E402
from remediate.rules.playbook import PlaybookError, parse_playbook  # noqa: E402

CORPUS = ROOT / "bench" / "kb_corpus"
FIELDS = ("events", "event_ids", "codes", "fix_files", "exchange_versions")


# --------------------------------------------------------------------------- normal forms


def source_key(source: str | None) -> str | None:
    """Sources compare without case and with runs of spaces as one (as written otherwise)."""
    return " ".join(source.lower().split()) if source else None


def code_key(code: str) -> str:
    """One spelling per code: hex without 0x, case or leading zeros; decimals as numbers;
    symbolic names upper-case."""
    text = code.strip().strip(".,;:()[]'\"")
    lower = text.lower()
    if re.fullmatch(r"-?\d+", lower):
        return str(int(lower))
    if re.fullmatch(r"(0x)?[0-9a-f]+(-(0x)?[0-9a-f]+)?", lower):
        parts = [p.removeprefix("0x").lstrip("0") or "0" for p in lower.split("-")]
        return "-".join(parts)
    return text.upper()


def version_key(version: str | None) -> str | None:
    return (
        ".".join(str(int(p)) if p.isdigit() else p for p in version.split(".")) if version else None
    )


def expected(label: dict[str, Any]) -> dict[str, set[Any]]:
    events = {(source_key(e.get("source")), int(e["event_id"])) for e in label["events"]}
    codes = {code_key(c) for c in label["codes"]}
    for event in label["events"]:
        codes |= {code_key(c) for c in event.get("codes", [])}
    return {
        "events": events,
        "event_ids": {event_id for _, event_id in events},
        "codes": codes,
        "fix_files": {
            (f["file"].lower(), version_key(f.get("version"))) for f in label["fix_files"]
        },
        "exchange_versions": set(label["exchange_versions"]),
    }


def found(facts: ArticleFacts) -> dict[str, set[Any]]:
    events = {(source_key(e.source), e.event_id) for e in facts.events}
    return {
        "events": events,
        "event_ids": {event_id for _, event_id in events},
        # the codes of its events, and those the article states outside any event (when the
        # importer reads them: `ArticleFacts.codes`)
        "codes": {code_key(c) for e in facts.events for c in e.codes}
        | {code_key(c) for c in getattr(facts, "codes", ())},
        "fix_files": {(r.file.lower(), version_key(r.version)) for r in facts.fix_files},
        "exchange_versions": {r.version for r in facts.ranges},
    }


def fixed_in_key(value: Any) -> tuple[str, int] | None:
    """(Exchange version or product words, SP) from a label or the importer's fixed_in_sp."""
    if not value:
        return None
    if isinstance(value, dict):
        product, sp = value["product"], int(value["service_pack"])
    else:
        product, sp = value
    names = {
        "exchange server 4.0": "4.0",
        "exchange server 5.0": "5.0",
        "exchange server 5.5": "5.5",
        "exchange 2000 server": "6.0",
        "exchange 2000": "6.0",
        "exchange server 2003": "6.5",
        "exchange 2003": "6.5",
        "exchange server 2007": "8.0",
    }
    words = " ".join(str(product).lower().removeprefix("microsoft ").split())
    return names.get(words, words), sp


# --------------------------------------------------------------------------- scoring


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, want: set[Any], got: set[Any]) -> None:
        self.tp += len(want & got)
        self.fp += len(got - want)
        self.fn += len(want - got)

    def scores(self) -> tuple[float, float, float]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1


@dataclass
class Score:
    tallies: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in FIELDS})
    fixed_in_right: int = 0
    exact: int = 0
    articles: int = 0
    misses: list[str] = field(default_factory=list)


def corpus(split: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rows = json.loads((CORPUS / "corpus.json").read_text(encoding="utf-8"))
    chosen = []
    for row in rows:
        label_path = CORPUS / "labels" / f"{row['article']}.json"
        if label_path.exists() and split in ("all", row["split"]):
            chosen.append((row, json.loads(label_path.read_text(encoding="utf-8"))))
    return chosen


def score(archive: Path, items: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> Score:
    result = Score()
    for row, label in items:
        facts = extract(read_article(archive / row["path"]), row["path"])
        want, got = expected(label), found(facts)
        right = True
        for name in FIELDS:
            result.tallies[name].add(want[name], got[name])
            if want[name] != got[name]:
                right = False
                result.misses.append(
                    f"{row['article']} {name}: missed {sorted(want[name] - got[name], key=str)}"
                    f" extra {sorted(got[name] - want[name], key=str)}"
                )
        # an Exchange service pack, or another product's (a Windows SP) when that is the fix
        got_fixed_in = facts.fixed_in_sp or getattr(facts, "fixed_in_other", None)
        if fixed_in_key(label["fixed_in"]) == fixed_in_key(got_fixed_in):
            result.fixed_in_right += 1
        else:
            right = False
            result.misses.append(
                f"{row['article']} fixed_in: want {fixed_in_key(label['fixed_in'])}"
                f" got {fixed_in_key(got_fixed_in)}"
            )
        result.exact += right
        result.articles += 1
    return result


def report(name: str, result: Score) -> dict[str, Any]:
    out: dict[str, Any] = {"split": name, "articles": result.articles}
    print(f"{name}: {result.articles} labelled articles")
    for field_name, tally in result.tallies.items():
        precision, recall, f1 = tally.scores()
        out[field_name] = {"precision": precision, "recall": recall, "f1": f1}
        print(f"  {field_name:18} P {precision:.2f}  R {recall:.2f}  F1 {f1:.2f}")
    articles = max(result.articles, 1)
    out["fixed_in_accuracy"] = result.fixed_in_right / articles
    out["exact_articles"] = result.exact / articles
    print(f"  fixed_in accuracy  {out['fixed_in_accuracy']:.2f}")
    print(f"  exact articles     {out['exact_articles']:.2f}")
    return out


# --------------------------------------------------------------------------- sweep


def exchange_articles(archive: Path) -> list[Path]:
    paths = []
    for path in sorted(archive.glob("txt/*/*.TXT")):
        with path.open(encoding="latin-1") as handle:
            head = handle.read(600)
        if re.search(r"(?im)^PRODUCT\s*:.*exchange", head):
            paths.append(path)
    return paths


def sweep(archive: Path, limit: int | None) -> dict[str, Any]:
    paths = exchange_articles(archive)[:limit]
    crashes: list[str] = []
    refused = valid = invalid = procedures = 0
    started = time.perf_counter()
    slowest = (0.0, "")
    for path in paths:
        one = time.perf_counter()
        try:
            article = read_article(path)
            facts = extract(article, str(path))
            try:
                text = playbook_yaml(draft_playbook(facts, text=article))
            except InputError:
                refused += 1
            else:
                try:
                    playbook = parse_playbook(text, str(path))
                    valid += 1
                    kinds = {step.step for step in playbook.remediation}
                    procedures += bool(kinds - {"manual", "verify"})
                except PlaybookError:
                    invalid += 1
        except Exception:  # a crash is what the sweep counts
            crashes.append(f"{path}: {traceback.format_exc(limit=3)}")
        slowest = max(slowest, (time.perf_counter() - one, path.name))
    seconds = time.perf_counter() - started
    result = {
        "articles": len(paths),
        "crashes": len(crashes),
        "drafts_refused": refused,
        "drafts_valid": valid,
        "drafts_invalid": invalid,
        "drafts_with_procedure_steps": procedures,
        "ms_per_article": round(1000 * seconds / max(len(paths), 1), 2),
        "slowest": {"article": slowest[1], "ms": round(1000 * slowest[0], 1)},
    }
    print(json.dumps(result, indent=2))
    for crash in crashes[:5]:
        print(crash)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path, help="the extracted archive (holding txt/)")
    splits = ("dev", "held", "held2", "held3", "held4", "held5", "all")
    parser.add_argument("--split", choices=splits, default="dev")
    parser.add_argument("--misses", action="store_true", help="list each article's differences")
    parser.add_argument("--show", help="print one article's label next to what was extracted")
    parser.add_argument("--sweep", action="store_true", help="read every Exchange article")
    parser.add_argument("--limit", type=int, help="with --sweep: the first N articles only")
    args = parser.parse_args()
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    if args.sweep:
        out = sweep(args.archive, args.limit)
        (results / "kb_sweep.json").write_text(json.dumps(out, indent=2) + "\n")
        return
    items = corpus(args.split)
    if args.show:
        for row, label in items:
            if row["article"] == args.show.upper():
                facts = extract(read_article(args.archive / row["path"]), row["path"])
                print(json.dumps({"label": expected(label), "found": found(facts)}, default=sorted))
        return
    result = score(args.archive, items)
    out = report(args.split, result)
    if args.misses:
        print("\n".join(result.misses))
    (results / f"kb_corpus_{args.split}.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
