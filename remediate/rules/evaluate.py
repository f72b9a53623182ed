"""Evidence x playbook -> Finding. Pure functions: no I/O, no clock (now is passed in).

`evaluate` decides the status of one article on one host and keeps the evidence that led
there. What to ask a host for (`collect_request`) is the audit's business:
`remediate.audit.request`; the two meet at `event_query_id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from remediate.catalog.windows import os_family
from remediate.errors import TransportError
from remediate.rules.evidence import (
    EventMatches,
    EventSample,
    Evidence,
    ExchangeFacts,
    FileEvidence,
)
from remediate.rules.findings import (
    FileVerdict,
    Finding,
    RequirementResult,
    Status,
    SymptomResult,
)
from remediate.rules.playbook import (
    LINE_VERSIONS,
    ComponentSelection,
    EventSelection,
    FixedIn,
    FixFile,
    NamedBuild,
    Playbook,
    ProductRange,
    ServiceSelection,
    product_line,
)
from remediate.rules.versions import FileVersion, VersionError, has_update, update_needed


def event_query_id(playbook: Playbook, selection: str) -> str:
    """The name an event selection's matches carry from the collect request to the evidence."""
    return f"{playbook.id}.{selection}"


# -- applicability ---------------------------------------------------------------------------


def _describe_exchange(evidence: Evidence) -> str:
    exchange = evidence.exchange
    if exchange is None:
        return "no Exchange Server"
    if not exchange.build:
        return f"{exchange.display} (build unknown)"
    return exchange.display_with_build


def host_line(exchange: ExchangeFacts) -> str | None:
    """The product line of the host's Exchange: the collector's product name (from the build
    table, which tells SE from 2019 by build), else the only line of its version; None when
    neither tells (a 15.2 whose product was not named)."""
    named = product_line(exchange.product)
    if named is not None:
        return named
    lines = [line for line, versions in LINE_VERSIONS.items() if exchange.version in versions]
    return lines[0] if len(lines) == 1 else None


def _in_range(product: ProductRange, evidence: Evidence) -> bool | None:
    """Whether the host's Exchange is in this range; None when a needed fact is missing."""
    exchange = evidence.exchange
    if exchange is None or exchange.version != product.version:
        return False
    if product.line is not None:
        line = host_line(exchange)
        if line is None:
            return None
        if line != product.line:
            return False
    sp = exchange.service_pack
    if product.min_sp is not None or product.max_sp is not None:
        if sp is None:
            return None
        if product.min_sp is not None and sp < product.min_sp:
            return False
        if product.max_sp is not None and sp > product.max_sp:
            return False
    if product.min_build or product.max_build or product.min_update:
        try:
            build = FileVersion.parse(exchange.build)
        except VersionError:
            return None
        if product.min_build and build < FileVersion.parse(product.min_build):
            return False
        if product.max_build and build > FileVersion.parse(product.max_build):
            return False
        if product.min_update and not has_update(build, [u.version for u in product.min_update]):
            return False
    return True


def _roles_apply(playbook: Playbook, evidence: Evidence) -> bool | None:
    """Whether the server has one of the article's roles; None when its roles are unknown."""
    wanted = playbook.applies_to.roles
    if not wanted:
        return True
    exchange = evidence.exchange
    if exchange is None or not exchange.roles:
        return None
    return any(role in exchange.roles for role in wanted)


def _os_applies(playbook: Playbook, evidence: Evidence) -> bool:
    condition = playbook.applies_to.os
    if condition is None:
        return True
    os = evidence.os
    family = os_family(os.version)
    if condition.families and family not in condition.families:
        return False
    if condition.min_sp is not None and (os.service_pack or 0) < condition.min_sp:
        return False
    return not condition.architectures or os.architecture in condition.architectures


# -- the fix ---------------------------------------------------------------------------------


def _file_verdict(row: FixFile, found: FileEvidence | None, evidence: Evidence) -> FileVerdict:
    if found is None:
        return FileVerdict(
            row.file,
            row.location()[1],
            row.version,
            None,
            "unknown",
            note="the collector returned nothing for this file",
        )
    pending = found.path.lower() in {p.lower() for p in evidence.pending_renames}
    if not found.exists:
        verdict = "pending" if pending else "absent"
        return FileVerdict(row.file, found.path, row.version, None, verdict)
    if row.version is None:
        return FileVerdict(row.file, found.path, None, found.version, "present", found.modified)
    if found.version is None:
        return FileVerdict(
            row.file,
            found.path,
            row.version,
            None,
            "no_version",
            found.modified,
            note="the file has no version resource; its presence is accepted",
        )
    older = FileVersion.parse(found.version) < FileVersion.parse(row.version)
    verdict = ("pending" if pending else "older") if older else "ok"
    note = "a replacement waits for a restart" if pending and older else ""
    return FileVerdict(
        row.file,
        found.path,
        row.version,
        found.version_text or found.version,
        verdict,
        found.modified,
        note,
    )


def _fix_file_verdicts(
    playbook: Playbook, evidence: Evidence, exchange: ExchangeFacts
) -> tuple[tuple[FileVerdict, ...], list[FixFile]]:
    """The verdicts of the rows that concern this host (its platform and Exchange), and the
    rows set aside for another Exchange: those are not the host's fix, so never missing."""
    line = host_line(exchange)
    verdicts: list[FileVerdict] = []
    elsewhere: list[FixFile] = []
    for row in playbook.fix_files_for(evidence.os.architecture):
        concerns = row.for_exchange(exchange.version, line)
        if concerns is False:
            elsewhere.append(row)
        elif concerns is None:
            note = f"the row is for {row.exchange_version}; the host's product line is unknown"
            verdicts.append(
                FileVerdict(row.file, row.location()[1], row.version, None, "unknown", note=note)
            )
        else:
            verdicts.append(_file_verdict(row, evidence.file(row.key), evidence))
    return tuple(verdicts), elsewhere


def _exchange_name(version: str) -> str:
    """The product line a row's `exchange_version` names ("6.0" is Exchange 2000 Server), or
    "Exchange 15.2" for a version of several lines."""
    if version in LINE_VERSIONS:
        return version
    lines = [line for line, versions in LINE_VERSIONS.items() if version in versions]
    return lines[0] if len(lines) == 1 else f"Exchange {version}"


def _elsewhere_note(rows: Sequence[FixFile], exchange: ExchangeFacts) -> str:
    names = ", ".join(dict.fromkeys(_exchange_name(str(r.exchange_version)) for r in rows))
    own = _host_exchange(exchange)
    return f"{len(rows)} fix file row(s) of the article are for {names}, not {own}: not checked"


def _host_exchange(exchange: ExchangeFacts) -> str:
    return host_line(exchange) or f"Exchange {exchange.version}"


def _requirement(
    selection: ServiceSelection | ComponentSelection, evidence: Evidence
) -> RequirementResult:
    if isinstance(selection, ServiceSelection):
        service = evidence.service(selection.service)
        text = f"service {selection.service} {selection.state}"
        if service is None:
            return RequirementResult(text, None)
        return RequirementResult(text, service.found and _state(service.state) == selection.state)
    component = evidence.component(selection.component)
    text = f"component {selection.component} {'installed' if selection.installed else 'removed'}"
    if component is None or component.installed is None:
        return RequirementResult(text, None)
    return RequirementResult(text, component.installed == selection.installed)


def _state(windows_state: str) -> str:
    return windows_state.strip().lower().replace(" ", "_")


# -- symptoms --------------------------------------------------------------------------------


def _sample_passes(selection: EventSelection, sample: EventSample) -> bool:
    if selection.message and not re.search(selection.message, sample.message, re.IGNORECASE):
        return False
    message = sample.message.lower()
    if any(code.lower() not in message for code in selection.codes):
        return False
    return not (selection.data_contains and selection.data_contains not in sample.data_hex.lower())


def _enough_in_window(times: Sequence[datetime], minimum: int, window: timedelta | None) -> bool:
    if len(times) < minimum:
        return False
    if window is None:
        return True
    ordered = sorted(times)
    return any(
        ordered[i + minimum - 1] - ordered[i] <= window for i in range(len(ordered) - minimum + 1)
    )


def _event_symptom(
    name: str, selection: EventSelection, matches: EventMatches | None, after: datetime | None
) -> SymptomResult:
    what = _describe_selection(selection)
    if matches is None:
        return SymptomResult(name, "events", False, what, known=False)
    filtered = bool(selection.message or selection.codes or selection.data_contains)
    samples = [s for s in matches.samples if _sample_passes(selection, s)]
    if after is not None:
        samples = [s for s in samples if s.time > after]
    if filtered or after is not None:
        count = len(samples)
        first = min((s.time for s in samples), default=None)
        last = max((s.time for s in samples), default=None)
        if not filtered and after is not None and matches.last and matches.last > after:
            count = max(count, 1)
            last = matches.last
    else:
        count, first, last = matches.total, matches.first, matches.last
    capped = (filtered or after is not None) and _left_out_could_count(matches, after)
    if selection.count is not None:
        times = [s.time for s in samples]
        matched = _enough_in_window(times, selection.count.min, selection.count.window) or (
            not filtered
            and after is None
            and count >= selection.count.min
            and selection.count.window is not None
            and first is not None
            and last is not None
            and last - first <= selection.count.window
        )
    else:
        matched = count > 0
    return SymptomResult(
        name, "events", matched, what, count, first, last, tuple(samples[:5]), capped=capped
    )


def _left_out_could_count(matches: EventMatches, after: datetime | None) -> bool:
    """Whether records the probe did not send could have counted. It sends the newest ones
    up to its cap and counts them all (`total`): a count made from the samples is then a
    floor, unless even the oldest sample is not after `after` (the fix's date), so every
    record left out is older still and would not have counted."""
    if matches.total <= len(matches.samples):
        return False
    oldest = min((s.time for s in matches.samples), default=None)
    return after is None or oldest is None or oldest > after


def _describe_selection(selection: EventSelection) -> str:
    parts = [f"{selection.log} log"]
    if selection.source:
        parts.append("source " + "/".join(selection.source))
    if selection.event_ids:
        parts.append("event " + "/".join(str(i) for i in selection.event_ids))
    if selection.codes:
        parts.append("with " + ", ".join(selection.codes))
    if selection.data_contains:
        parts.append(f"data containing {selection.data_contains}")
    if selection.message:
        parts.append(f"message ~ /{selection.message}/")
    if selection.count:
        within = f" within {selection.count.within}" if selection.count.within else ""
        parts.append(f"at least {selection.count.min} times{within}")
    return ", ".join(parts)


def _symptoms(
    playbook: Playbook, evidence: Evidence, after: datetime | None
) -> list[SymptomResult]:
    results = []
    if playbook.symptoms is None:
        return results
    for name, selection in playbook.symptoms.selections.items():
        if isinstance(selection, EventSelection):
            matches = evidence.event_matches(event_query_id(playbook, name))
            results.append(_event_symptom(name, selection, matches, after))
        else:
            requirement = _requirement(selection, evidence)
            kind = "service" if isinstance(selection, ServiceSelection) else "component"
            results.append(
                SymptomResult(
                    name,
                    kind,
                    bool(requirement.satisfied),
                    requirement.description,
                    known=requirement.satisfied is not None,
                )
            )
    return results


def _condition_holds(playbook: Playbook, results: list[SymptomResult]) -> bool:
    if playbook.symptoms is None:
        return False
    return playbook.symptoms.compiled.evaluate({r.name: r.matched for r in results})


# -- the decision ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateState:
    """What `fixed_in`'s updates say of the host: `fixed` None when it cannot be told, and
    the reason in words ("needs Exchange Server 2019 CU14 Nov24SU (15.2.1544.13) or later;
    has CU13 (15.2.1258.12)")."""

    fixed: bool | None
    text: str
    needed: NamedBuild | None = None


def update_state(fixed_in: FixedIn | None, exchange: ExchangeFacts) -> UpdateState | None:
    """Whether the host's build has one of the updates `fixed_in` names for its product line
    (`versions.has_update`: CU by CU, a later CU having them all, a build newer than the build
    table compared by number); None when `fixed_in` names no product line at all."""
    if fixed_in is None or not fixed_in.lines:
        return None
    line = host_line(exchange)
    if line is None:
        return UpdateState(None, f"the product line of {exchange.display} could not be told")
    updates = fixed_in.updates_for(line)
    if not updates:
        return UpdateState(False, f"no update of {line} is named as fixing it")
    try:
        build = FileVersion.parse(exchange.build)
    except VersionError:
        return UpdateState(None, f"the build of {exchange.display} could not be read")
    has = f"{exchange.update} ({exchange.build})" if exchange.update else f"build {build}"
    needed = update_needed(build, [u.version for u in updates])
    if needed is None:
        return UpdateState(True, f"{exchange.display_with_build}: has the fix")
    wanted = next(u for u in updates if u.version == needed)
    return UpdateState(False, f"needs {wanted.label} or later; has {has}", wanted)


def evaluate(playbook: Playbook, evidence: Evidence) -> Finding:
    """Decide the status of one article on one host, with the evidence for it."""
    facts = (
        ("exchange", _describe_exchange(evidence)),
        (
            "os",
            f"{evidence.os.caption} SP{evidence.os.service_pack or 0} ({evidence.os.architecture})",
        ),
    )

    def finding(status: Status, reason: str, **parts: object) -> Finding:
        return Finding(evidence.host, playbook.id, status, reason, facts, **parts)  # type: ignore[arg-type]

    ranges = [_in_range(p, evidence) for p in playbook.applies_to.products]
    if True not in ranges:
        if None in ranges:
            return finding(
                Status.UNKNOWN,
                "the Exchange service pack, build or product line could not be read, so "
                "applicability cannot be decided",
            )
        wanted = "; ".join(p.describe() for p in playbook.applies_to.products)
        return finding(
            Status.NOT_APPLICABLE, f"{_describe_exchange(evidence)}; the article concerns {wanted}"
        )
    if not _os_applies(playbook, evidence):
        return finding(
            Status.NOT_APPLICABLE, f"{evidence.os.caption}: outside the article's OS conditions"
        )
    roles = _roles_apply(playbook, evidence)
    if roles is None:
        return finding(
            Status.UNKNOWN,
            "the Exchange server roles could not be read; the article concerns servers with "
            f"the {' or '.join(playbook.applies_to.roles)} role",
        )
    if not roles:
        exchange_roles = ", ".join(evidence.exchange.roles) if evidence.exchange else ""
        return finding(
            Status.NOT_APPLICABLE,
            f"roles {exchange_roles}; the article concerns servers with the "
            f"{' or '.join(playbook.applies_to.roles)} role",
        )

    exchange = evidence.exchange
    assert exchange is not None
    fixed_in = playbook.fix.fixed_in
    sp_fixed = (
        fixed_in is not None
        and fixed_in.service_pack is not None
        and exchange.version == fixed_in.version
        and exchange.service_pack is not None
        and exchange.service_pack >= fixed_in.service_pack
    )
    updates = update_state(fixed_in, exchange)
    update_fixed = updates is not None and updates.fixed is True
    verdicts, elsewhere = _fix_file_verdicts(playbook, evidence, exchange)
    requirements = tuple(_requirement(r, evidence) for r in playbook.fix.requires)
    parts: dict[str, object] = {"files": verdicts, "requirements": requirements}
    if elsewhere:
        parts["notes"] = (_elsewhere_note(elsewhere, exchange),)

    requirements_ok = all(r.satisfied for r in requirements)
    files_ok = bool(verdicts) and all(v.satisfied for v in verdicts)
    unknown_files = [v for v in verdicts if v.verdict == "unknown"]
    pending = [v for v in verdicts if v.verdict == "pending"]
    if any(r.satisfied is None for r in requirements):
        return finding(
            Status.UNKNOWN, "a required service or component state could not be read", **parts
        )
    if fixed_in is None and not verdicts and elsewhere:
        return finding(
            Status.UNKNOWN,
            f"the article's file table has no row for {_host_exchange(exchange)}, so the fix "
            "cannot be checked",
            **parts,
        )
    if fixed_in is None and not verdicts:
        fixed = requirements_ok
    else:
        fixed = (sp_fixed or update_fixed or files_ok) and requirements_ok
    if not fixed and not sp_fixed and not update_fixed:
        if unknown_files:
            return finding(
                Status.UNKNOWN, f"{len(unknown_files)} fix file(s) could not be checked", **parts
            )
        if updates is not None and updates.fixed is None and not files_ok:
            return finding(Status.UNKNOWN, f"{updates.text}, so the fix cannot be checked", **parts)

    all_symptoms = _symptoms(playbook, evidence, None)
    parts["symptoms"] = tuple(all_symptoms)
    seen = _condition_holds(playbook, all_symptoms)
    if not fixed:
        if (
            pending
            and all(v.satisfied or v.verdict == "pending" for v in verdicts)
            and requirements_ok
        ):
            return finding(
                Status.NEEDS_REBOOT,
                f"{len(pending)} fixed file(s) wait for a restart (PendingFileRenameOperations)",
                **parts,
            )
        why = _missing_reason(playbook, exchange, updates, verdicts, requirements)
        if seen:
            return finding(
                Status.AFFECTED, f"{why}; symptoms seen: {_seen_text(all_symptoms)}", **parts
            )
        return finding(Status.MISSING_FIX, f"{why}; no symptoms seen", **parts)

    fix_date = max((v.modified for v in verdicts if v.satisfied and v.modified), default=None)
    if seen:
        later = _symptoms(playbook, evidence, fix_date) if fix_date else all_symptoms
        if _condition_holds(playbook, later):
            since = f" after the fix's file date {fix_date:%Y-%m-%d}" if fix_date else ""
            return finding(
                Status.INVESTIGATE,
                f"fixed, yet symptoms seen{since}: {_seen_text(later)}",
                **{**parts, "symptoms": tuple(later)},
            )
    if sp_fixed:
        how = f"Exchange {exchange.version} SP{exchange.service_pack}"
    elif update_fixed and updates is not None:
        how = updates.text
    else:
        how = "fix files in place"
    if not verdicts and fixed_in is None:
        how = "required states hold"
    return finding(Status.COMPLIANT, f"{how}; no symptoms after the fix", **parts)


def _seen_text(results: Iterable[SymptomResult]) -> str:
    return ", ".join(
        f"{r.name} ({r.count_text})" if r.kind == "events" else r.name for r in results if r.matched
    )


def _missing_reason(
    playbook: Playbook,
    exchange: ExchangeFacts,
    updates: UpdateState | None,
    verdicts: Sequence[FileVerdict],
    requirements: Sequence[RequirementResult],
) -> str:
    reasons = []
    fixed_in = playbook.fix.fixed_in
    if (
        fixed_in is not None
        and fixed_in.service_pack is not None
        and (fixed_in.version == exchange.version or updates is None)
    ):
        reasons.append(f"SP{exchange.service_pack or 0} is below SP{fixed_in.service_pack}")
    if updates is not None and updates.fixed is False:
        reasons.append(updates.text)
    bad = [v for v in verdicts if not v.satisfied]
    if bad:
        first = bad[0]
        detail = (
            f"{first.file} {first.found or first.verdict} < {first.required}"
            if first.required
            else f"{first.file} absent"
        )
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        reasons.append(f"{detail}{more}")
    reasons += [f"{r.description} does not hold" for r in requirements if not r.satisfied]
    return "; ".join(reasons) or "the fix is not in place"


def error_finding(host: str, playbook: str, error: TransportError) -> Finding:
    """The finding of an article on a host that could not be audited."""
    return Finding(
        host, playbook, Status.ERROR, error.message, error_kind=error.reason, hint=error.hint
    )
