"""How fast the KB importer reads articles: 1,000 imports (facts and draft playbook).

    python bench/kb_import.py [--count 1000]

Cycles through the sample articles in tests/kb/samples (and the seeds when present), timing
read, extract and draft for each. Results go to bench/results/kb_import.json; the goal is
1,000 articles in under 10 seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from remediate.errors import InputError  # noqa: E402
from remediate.kb.draft import draft_playbook, playbook_yaml  # noqa: E402
from remediate.kb.extract import extract  # noqa: E402
from remediate.kb.read import read_article  # noqa: E402


def articles() -> list[Path]:
    """The sample articles, plus the seed articles when the shared folder is present."""
    found = [
        p for p in sorted((ROOT / "tests" / "kb" / "samples").iterdir())
        if not p.name.endswith(".expected.json")
    ]  # fmt: skip
    seeds = Path("/work/shared/seeds")
    if seeds.is_dir():
        found += sorted(seeds.glob("*.txt"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    paths = articles()
    drafted = 0
    start = time.perf_counter()
    for index in range(args.count):
        path = paths[index % len(paths)]
        facts = extract(read_article(path), str(path))
        try:
            playbook_yaml(draft_playbook(facts))
            drafted += 1
        except InputError:
            pass
    seconds = time.perf_counter() - start
    result = {
        "articles": args.count,
        "distinct_articles": len(paths),
        "drafted": drafted,
        "seconds": round(seconds, 3),
        "per_article_ms": round(1000 * seconds / max(args.count, 1), 3),
        "goal_seconds": 10,
        "within_goal": seconds < 10,
    }
    out = ROOT / "bench" / "results" / "kb_import.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
