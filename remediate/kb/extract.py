"""Facts from an article's text: identity, title, products, symptom events with their error
codes and data bytes, the installed-files table and the fixing service pack.

The second step of the importer's flow (read -> extract -> draft). Each kind of fact has its
reader module (identity, products, events, codes, fix_table); this one runs them in order and
keeps the facts classes importable from here. Nothing is fetched.
"""

from __future__ import annotations

import re
from dataclasses import replace

from remediate.kb.codes import article_codes, cut_short
from remediate.kb.events import events as _events
from remediate.kb.facts import ArticleFacts, EventFact, FixRow, ProductFact
from remediate.kb.fix_table import fix_files as _fix_files
from remediate.kb.fixed_in import fixed_in as _fixed_in
from remediate.kb.identity import article_id as _article_id
from remediate.kb.identity import title as _title
from remediate.kb.products import products as _products
from remediate.kb.read import normalise, split_sections
from remediate.kb.references import mask_references

__all__ = ["ArticleFacts", "EventFact", "FixRow", "ProductFact", "extract"]


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
    ranges, products, other_products = _products(text, sections)
    if not products:
        warnings.append("no Exchange product or version found")
    events = _events(text, sections, warnings)
    if not events:
        warnings.append("no symptom events found")
    fix_files = _fix_files(text, warnings)
    fixed_in, fixed_in_sp, fixed_in_other = _fixed_in(text, sections, ranges)
    if fixed_in is None and not fix_files:
        warnings.append("no fixing service pack and no file table found")
    # The article's own text: no footer or keywords ("Additional query words: ... 0x80"), no
    # other articles' titles.
    body = "\n".join(
        text[s.start : s.end] for s in sections if s.name not in ("KEYWORDS", "PROPERTIES")
    )
    event_ids = {e.event_id for e in events}
    codes = article_codes(mask_references(body), [c for e in events for c in e.codes], event_ids)
    cut = cut_short(codes)
    if cut:
        codes = [c for c in codes if c not in cut]
        events = [replace(e, codes=tuple(c for c in e.codes if c not in cut)) for e in events]
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
        other_products=other_products,
        codes=codes,
        fixed_in_other=fixed_in_other,
    )
