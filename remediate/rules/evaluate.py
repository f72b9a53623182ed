"""Evidence x playbook -> Finding. Pure functions: no I/O, no clock (now is passed in).

`evaluate` decides the status of one article on one host and keeps the evidence that led
there. What to ask a host for (`collect_request`) is the audit's business:
`remediate.audit.request`; the two meet at `event_query_id`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from remediate.catalog.windows import os_family
from remediate.errors import TransportError
from remediate.rules.evidence import EventMatches, EventSample, Evidence, FileEvidence
from remediate.rules.findings import (
    FileVerdict,
    Finding,
    RequirementResult,
    Status,
    SymptomResult,
)
from remediate.rules.playbook import (
    ComponentSelection,
    EventSelection,
    FixFile,
    Playbook,
    ProductRange,
    ServiceSelection,
)
from remediate.rules.versions import FileVersion, VersionError


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


def _range_text(product: ProductRange) -> str:
    text = f"Exchange {product.version}"
    if product.min_sp is not None and product.min_sp == product.max_sp:
        return f"{text} SP{product.min_sp}"
    if product.min_sp is not None:
        text += f" SP{product.min_sp} or later"
    if product.max_sp is not None:
        text += f" up to SP{product.max_sp}"
    return text


def _in_range(product: ProductRange, evidence: Evidence) -> bool | None:
    """Whether the host's Exchange is in this range; None when a needed fact is missing."""
    exchange = evidence.exchange
    if exchange is None or exchange.version != product.version:
        return False
    sp = exchange.service_pack
    if product.min_sp is not None or product.max_sp is not None:
        if sp is None:
            return None
        if product.min_sp is not None and sp < product.min_sp:
            return False
        if product.max_sp is not None and sp > product.max_sp:
            return False
    if product.min_build or product.max_build:
        try:
            build = FileVersion.parse(exchange.build)
        except VersionError:
            return None
        if product.min_build and build < FileVersion.parse(product.min_build):
            return False
        if product.max_build and build > FileVersion.parse(product.max_build):
            return False
    return True


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
    return SymptomResult(name, "events", matched, what, count, first, last, tuple(samples[:5]))


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
                "the Exchange service pack could not be read, so applicability cannot be decided",
            )
        wanted = " or ".join(_range_text(p) for p in playbook.applies_to.products)
        return finding(
            Status.NOT_APPLICABLE, f"{_describe_exchange(evidence)}; the article concerns {wanted}"
        )
    if not _os_applies(playbook, evidence):
        return finding(
            Status.NOT_APPLICABLE, f"{evidence.os.caption}: outside the article's OS conditions"
        )

    exchange = evidence.exchange
    assert exchange is not None
    fixed_in = playbook.fix.fixed_in
    sp_fixed = (
        fixed_in is not None
        and exchange.version == fixed_in.version
        and exchange.service_pack is not None
        and exchange.service_pack >= fixed_in.service_pack
    )
    rows = playbook.fix_files_for(evidence.os.architecture)
    verdicts = tuple(_file_verdict(r, evidence.file(r.key), evidence) for r in rows)
    requirements = tuple(_requirement(r, evidence) for r in playbook.fix.requires)
    parts: dict[str, object] = {"files": verdicts, "requirements": requirements}

    requirements_ok = all(r.satisfied for r in requirements)
    files_ok = bool(verdicts) and all(v.satisfied for v in verdicts)
    unknown_files = [v for v in verdicts if v.verdict == "unknown"]
    pending = [v for v in verdicts if v.verdict == "pending"]
    if any(r.satisfied is None for r in requirements):
        return finding(
            Status.UNKNOWN, "a required service or component state could not be read", **parts
        )
    if fixed_in is None and not verdicts:
        fixed = requirements_ok
    else:
        fixed = (sp_fixed or files_ok) and requirements_ok
    if not fixed and unknown_files and not sp_fixed:
        return finding(
            Status.UNKNOWN, f"{len(unknown_files)} fix file(s) could not be checked", **parts
        )

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
        why = _missing_reason(playbook, exchange.service_pack, verdicts, requirements)
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
    how = (
        f"Exchange {exchange.version} SP{exchange.service_pack}"
        if sp_fixed
        else "fix files in place"
    )
    if not verdicts and fixed_in is None:
        how = "required states hold"
    return finding(Status.COMPLIANT, f"{how}; no symptoms after the fix", **parts)


def _seen_text(results: Iterable[SymptomResult]) -> str:
    return ", ".join(
        f"{r.name} ({r.count})" if r.kind == "events" else r.name for r in results if r.matched
    )


def _missing_reason(
    playbook: Playbook,
    sp: int | None,
    verdicts: Sequence[FileVerdict],
    requirements: Sequence[RequirementResult],
) -> str:
    reasons = []
    fixed_in = playbook.fix.fixed_in
    if fixed_in is not None:
        reasons.append(f"SP{sp or 0} is below SP{fixed_in.service_pack}")
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
