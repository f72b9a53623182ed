"""Facts to output: the JSON of `kb import --format json`, and a draft playbook (dict and
YAML) marked `review: required` for a human to check against the article.

The last step of the importer's flow (read -> extract -> draft).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml
from pydantic import ValidationError

from remediate.errors import InputError
from remediate.kb.extract import ArticleFacts, EventFact, ProductFact
from remediate.kb.procedure import ProcedureStep, read_procedure

# --------------------------------------------------------------------------- json


def facts_json(facts: ArticleFacts) -> dict[str, Any]:
    """The JSON object printed by `kb import --format json`."""
    return {
        "article": facts.article,
        "title": facts.title,
        "products": list(facts.products),
        "events": [
            {"source": e.source, "event_id": e.event_id, "codes": list(e.codes), "data": e.data}
            for e in facts.events
        ],
        "fix_files": [
            {
                "file": r.file,
                "version": r.version,
                "platform": r.platform,
                "component": r.component,
                "product": r.product,  # the Exchange version the row is listed under
            }
            for r in facts.fix_files
        ],
        "fixed_in": facts.fixed_in,
        # added keys (nothing renamed): products other than Exchange in "applies to", every
        # error code the article states, and a Windows service pack that fixes it
        "other_products": list(facts.other_products),
        "codes": list(facts.codes),
        "fixed_in_other": (
            {"product": facts.fixed_in_other[0], "service_pack": facts.fixed_in_other[1]}
            if facts.fixed_in_other
            else None
        ),
        "warnings": list(facts.warnings),
    }


# --------------------------------------------------------------------------- draft

KNOWN_SOURCES = (
    "MSExchangeMTA", "MSExchangeIMC", "MSExchangeIS", "MSExchangeSA", "MSExchangeDS",
    "MSExchangeTransport", "MSExchangeES", "MSExchangeAL", "MSExchangeDX", "MSExchangeMSMI",
    "MSExchangeCCMC", "MSExchangeIS Private", "MSExchangeIS Public", "MSExchangeIS Mailbox",
    "MSExchangeIS Public Store", "MSExchangeADDXA", "MSExchangeFBPublish", "MSExchangeSRS",
    "MSExchangeMU", "MSExchangeDSAccess", "MSExchangeOWA", "MSExchangeCluster",
    "MSExchangeNNTP", "SMTPSVC", "ESE", "ESE97", "EDB", "POP3Svc", "IMAP4Svc",
)  # fmt: skip
SERVICES = {"MSExchangeMTA", "MSExchangeIMC", "MSExchangeIS", "MSExchangeSA", "MSExchangeDS"}
_MTADATA_EXT = {"sch", "cfg", "tpl", "xv2", "cat"}


def canonical_source(source: str) -> str:
    """The real event source a misspelled or spaced name stands for (else as written)."""
    squeezed = re.sub(r"\s+", "", source).lower()
    by_key = {re.sub(r"\s+", "", s).lower(): s for s in KNOWN_SOURCES}
    if squeezed in by_key:
        return by_key[squeezed]
    close = difflib.get_close_matches(squeezed, list(by_key), n=1, cutoff=0.85)
    return by_key[close[0]] if close else source


def fix_folder(file: str) -> str:
    """Where the file lives: bin, mtadata, or the IMS folder for Msexcimc.exe."""
    if file.lower() == "msexcimc.exe":
        return "exchange:connect\\msexcimc\\bin"
    return "mtadata" if file.rsplit(".", 1)[-1].lower() in _MTADATA_EXT else "bin"


def row_exchange_version(product: str | None) -> str | None:
    """The `exchange_version` of a fix row the article lists under Exchange `product`
    ("6.0"), so that a draft checks it on that version's hosts only: the version itself where
    it names one product line, the line where its minor is the service pack ("8.0" is
    Exchange Server 2007, whose SP1 hosts are 8.1); None for a version the playbooks do not
    know (4.0, 5.0), whose rows stay checked on every host."""
    from remediate.rules.playbook import LINE_VERSIONS

    lines = [line for line, versions in LINE_VERSIONS.items() if product in versions]
    if len(lines) != 1:
        return None
    versions = LINE_VERSIONS[lines[0]]
    return product if len(versions) == 1 else lines[0]


def _selection_name(event: EventFact, used: set[str]) -> str:
    stem = re.sub(r"[^a-z0-9]+", "_", (event.source or "event").lower()).strip("_") or "event"
    if not stem[0].isalpha():
        stem = f"event_{stem}"
    name = f"{stem}_{event.event_id}"
    suffix = 2
    while name in used:
        name = f"{stem}_{event.event_id}_{suffix}"
        suffix += 1
    used.add(name)
    return name


def draft_playbook(
    facts: ArticleFacts, article_id: str | None = None, *, text: str | None = None
) -> dict[str, Any]:
    """A playbook dict (valid for Playbook.model_validate) marked `review: required`.

    With the article's `text`, a RESOLUTION that lists a procedure with steps this toolkit can
    run (components, services, reboots, a program in Exchange's bin) is drafted as those steps
    (remediate.kb.procedure); otherwise the remediation is one manual step.
    """
    from remediate.rules.playbook import Playbook

    ident = article_id or facts.article
    if ident is None or not re.fullmatch(r"(KB|Q)\d{5,7}", ident):
        raise InputError(
            f"{facts.source}: the article does not name itself; cannot draft a playbook",
            hint="name the file after the article (e.g. Q123456.txt)",
        )
    if not facts.ranges:
        raise InputError(f"{facts.source}: no Exchange version found; cannot draft a playbook")
    draft: dict[str, Any] = {
        "id": ident,
        "title": facts.title or f"Draft playbook for {ident}",
        "references": [ident, *facts.references],
        "severity": "medium",
        "review": "required",
        "applies_to": {"products": [_range_dict(r) for r in facts.ranges]},
    }
    selections: dict[str, Any] = {}
    used: set[str] = set()
    for event in facts.events:
        selection: dict[str, Any] = {"event_ids": [event.event_id]}
        if event.source:
            selection = {"source": [canonical_source(event.source)], **selection}
        if event.codes:
            selection["codes"] = list(event.codes)
        if event.data:
            selection["data_contains"] = event.data
        selections[_selection_name(event, used)] = selection
    if selections:
        draft["symptoms"] = {"selections": selections, "condition": "1 of them"}
    fix: dict[str, Any] = {}
    if facts.fixed_in_sp:
        fix["fixed_in"] = {"version": facts.fixed_in_sp[0], "service_pack": facts.fixed_in_sp[1]}
    files = []
    for row in facts.fix_files:
        item: dict[str, Any] = {
            "file": row.file,
            "version": row.version,
            "folder": fix_folder(row.file),
        }
        if row.platform:
            item["platform"] = row.platform
        if row.component:
            item["component"] = row.component
        exchange = row_exchange_version(row.product)
        if exchange:
            item["exchange_version"] = exchange
        files.append(item)
    if files:
        fix["files"] = files
    procedure = read_procedure(text) if text is not None else []
    if not any(step.kind != "manual" for step in procedure):
        procedure = []  # nothing to run: the article itself says it better than its pieces
    running: list[str] = []
    if not fix:
        services = [canonical_source(e.source) for e in facts.events if e.source]
        running = [s for s in dict.fromkeys(services) if s in SERVICES]
        installed = _installed_components(procedure)
        if not running and not installed:
            raise InputError(
                f"{facts.source}: no service pack, file table or service to check; "
                "cannot draft a fix"
            )
        fix["requires"] = [{"service": s, "state": "running"} for s in running]
        fix["requires"] += [{"component": c, "installed": True} for c in installed]
    draft["fix"] = fix
    if procedure:
        draft["remediation"] = _procedure_remediation(procedure, running)
    elif facts.fixed_in:
        instruction = f"Install {facts.fixed_in} or later; see {ident}."
        name = f"Install {facts.fixed_in}"
        draft["remediation"] = [{"step": "manual", "name": name, "instruction": instruction}]
    else:
        instruction = f"Apply the fix described in {ident} (see the article), then verify."
        name = f"Apply the fix from {ident}"
        draft["remediation"] = [{"step": "manual", "name": name, "instruction": instruction}]
    try:
        Playbook.model_validate(draft)
    except ValidationError as exc:
        raise InputError(f"{facts.source}: the draft playbook is not valid: {exc}") from None
    return draft


def _installed_components(procedure: list[ProcedureStep]) -> list[str]:
    """Components the procedure leaves installed (its last step for each adds it)."""
    last: dict[str, str | None] = {}
    for step in procedure:
        if step.kind == "windows_component" and step.component and not step.when_version:
            last[step.component] = step.action
    return [name for name, action in last.items() if action == "install"]


def _procedure_remediation(
    procedure: list[ProcedureStep], running: list[str]
) -> list[dict[str, Any]]:
    """The procedure's steps, then a start of each service the fix needs running that the
    procedure does not start after its last reboot, then an audit again (verify)."""
    steps = [step.playbook_step() for step in procedure]
    reboots = [i for i, step in enumerate(procedure) if step.kind == "reboot"]
    after = procedure[reboots[-1] + 1 :] if reboots else procedure
    started = {
        step.service
        for step in after
        if step.kind == "service" and step.action in ("start", "restart") and not step.when_version
    }
    for service in running:
        if service not in started:
            steps.append(
                {
                    "step": "service",
                    "name": f"Start {service}",
                    "service": service,
                    "action": "start",
                }
            )
    steps.append({"step": "verify"})
    return steps


def _range_dict(fact: ProductFact) -> dict[str, Any]:
    out: dict[str, Any] = {"version": fact.version}
    if fact.min_sp is not None:
        out["min_sp"] = fact.min_sp
    if fact.max_sp is not None:
        out["max_sp"] = fact.max_sp
    return out


def playbook_yaml(draft: dict[str, Any]) -> str:
    """The draft as YAML, with a comment saying it needs review."""
    header = (
        f"# Draft imported from {draft.get('id')}: review every fact against the article,\n"
        "# then set review: done.\n"
    )
    return header + yaml.safe_dump(draft, sort_keys=False, allow_unicode=True, width=100)
