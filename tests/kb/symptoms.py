"""A KB article around a SYMPTOMS text, and the events read from it: the events tests' sample."""

from __future__ import annotations

from remediate.kb.extract import ArticleFacts, extract


def symptoms_article(symptoms: str) -> ArticleFacts:
    """The facts of an Exchange 5.5 article whose SYMPTOMS section is `symptoms`."""
    text = (
        "The information in this article applies to:\n\n"
        " - Microsoft Exchange Server, version 5.5\n"
        "-------------------------------------------------------------------------------\n\n"
        f"SYMPTOMS\n========\n\n{symptoms}\n\nSTATUS\n======\n\nNone.\n"
    )
    return extract(text, "Q300001.txt")


def sources_by_id(facts: ArticleFacts) -> dict[int, str | None]:
    return {e.event_id: e.source for e in facts.events}
