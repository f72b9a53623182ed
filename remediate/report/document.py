"""The run document: one versioned JSON object per run, what every report and history share.

History stores it, the JSON report is it written out, and a stored one reads back into an
`AuditRun` (with the playbooks it names) so that a past run renders again in any format.

Schema 1 (`SCHEMA_VERSION`, JSON Schema in `schema/audit-1.json`)::

    {"schema": "remediate.audit/1", "run_id", "started", "finished", "interrupted",
     "aborted", "since", "tool": {"name", "version"},
     "playbooks": [{"id", "title", "severity", "source", "draft"}],
     "summary": {status: count},
     "hosts": [{"name", "address", "transport", "dialect", "elapsed", "round_trips",
                "error": null | {"kind", "message", "hint"},
                "facts": null | {"os", "pending_reboot", "pending_renames", "engine", "errors",
                          "exchange": null | {"product", "version", "build", "service_pack",
                                              "install_root", "roles", "update", "released",
                                              "newer_than_table", "display"}},
                "findings": [{"playbook", "status", "reason", "facts", "files", "symptoms",
                              "requirements", "error_kind", "hint", "waiver", "waived_status",
                              "notes"}]}]}

Times are ISO 8601 in UTC. Nothing secret is ever part of a run. A playbook's `draft` is true
for an imported draft nobody has reviewed (`review: required`); documents written before it have
no `draft` (read: false).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from remediate import __version__
from remediate.errors import InputError, TransportError
from remediate.rules.evidence import EventSample, Evidence, ExchangeFacts, OsFacts
from remediate.rules.findings import FileVerdict, Finding, RequirementResult, Status, SymptomResult
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun, HostResult

SCHEMA_VERSION = "remediate.audit/1"
SCHEMA_FILE = Path(__file__).parent / "schema" / "audit-1.json"


_FIELDS: dict[type, tuple[str, ...]] = {}


def _encode(value: Any) -> Any:
    """What the encoder cannot write by itself, one level at a time (it calls back for the
    rest): orjson writes dataclasses, enums and datetimes itself, but not a subclass of
    datetime, a set or a mapping other than dict; `_host` asks for one dataclass as a dict."""
    if is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS.get(type(value))
        if names is None:
            names = _FIELDS[type(value)] = tuple(f.name for f in fields(value))
        return {name: getattr(value, name) for name in names}
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot put {type(value).__name__} in a report")


def _exchange(exchange: ExchangeFacts | None) -> dict[str, Any] | None:
    """The Exchange facts and, for readers of the document, the name people use (display)."""
    if exchange is None:
        return None
    document = {f.name: getattr(exchange, f.name) for f in fields(exchange)}
    document["roles"] = list(exchange.roles)
    document["display"] = exchange.display
    return document


def _exchange_facts(data: dict[str, Any]) -> ExchangeFacts:
    """ExchangeFacts from a stored document, older ones (without roles, update...) included."""
    known = {f.name for f in fields(ExchangeFacts)}
    values = {key: value for key, value in data.items() if key in known}
    values["roles"] = tuple(values.get("roles") or ())
    return ExchangeFacts(**values)


def _host(result: HostResult) -> dict[str, Any]:
    evidence = result.evidence
    facts = None
    if evidence is not None:
        facts = {
            "os": evidence.os,
            "exchange": _exchange(evidence.exchange),
            "pending_reboot": evidence.pending_reboot,
            "pending_renames": list(evidence.pending_renames),
            "engine": evidence.engine,
            "errors": evidence.errors,
        }
    error = None
    if result.error is not None:
        error = {
            "kind": result.error.reason,
            "message": result.error.message,
            "hint": result.error.hint,
        }
    findings = []
    for finding in result.findings:
        document = _encode(finding)
        document.pop("host")
        document["facts"] = dict(finding.facts)
        findings.append(document)
    return {
        "name": result.host,
        "address": result.address,
        "transport": result.transport,
        "dialect": result.dialect,
        "elapsed": round(result.elapsed, 3),
        "round_trips": result.round_trips,
        "error": error,
        "facts": facts,
        "findings": findings,
    }


def run_document(run: AuditRun) -> dict[str, Any]:
    """The run as plain JSON data, as a reader of the JSON report or the history gets it.

    A round trip through orjson's encoder and decoder, many times faster than walking the run
    in Python (`dataclasses.asdict` deep-copies every leaf)."""
    data: dict[str, Any] = orjson.loads(document_bytes(run))
    return data


def document_json(run: AuditRun) -> str:
    """The run document as compact JSON text."""
    return document_bytes(run).decode("utf-8")


def document_bytes(run: AuditRun) -> bytes:
    """The run document as compact JSON, UTF-8 encoded."""
    # orjson writes dataclasses, enums and datetimes itself (UTC as Z, as `_encode` does), so
    # `_encode` is asked only for sets and mappings: the document of 1,000 lab hosts took
    # 360-600 ms with json's C encoder calling back into Python some 90 times a host, 110 ms
    # this way, byte for byte the same text (compared on that document, on every document the
    # report, audit, history and CLI tests write, and on the demo's).
    return orjson.dumps(_document(run), default=_encode, option=orjson.OPT_UTC_Z)


def run_summary(run: AuditRun) -> dict[str, int]:
    """Findings per status, every status named (the document's and history's summary)."""
    return {status.value: count for status, count in run.counts().items()}


def _document(run: AuditRun) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "run_id": run.run_id,
        "started": run.started,
        "finished": run.finished,
        "interrupted": run.interrupted,
        "aborted": run.aborted,
        "since": run.since,
        "tool": {"name": "remediate", "version": __version__},
        "playbooks": [
            {
                "id": p.id,
                "title": p.title,
                "severity": p.severity,
                "source": p.source,
                "draft": p.is_draft,
            }
            for p in run.playbooks
        ],
        "summary": run_summary(run),
        "hosts": [_host(r) for r in sorted(run.results, key=lambda r: r.host)],
    }


# -- reading a run back (history re-renders reports from the stored document alone) ----------


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _finding(host: str, data: dict[str, Any]) -> Finding:
    samples = lambda items: tuple(  # noqa: E731
        EventSample(
            _time(s["time"]),
            s["type"],
            s["source"],
            s["event_id"],
            s["message"],  # type: ignore[arg-type]
            s.get("data_hex", ""),
            s.get("record"),
        )
        for s in items
    )
    return Finding(
        host=host,
        playbook=data["playbook"],
        status=Status(data["status"]),
        reason=data["reason"],
        facts=tuple((k, v) for k, v in (data.get("facts") or {}).items()),
        files=tuple(
            FileVerdict(
                f["file"],
                f["path"],
                f["required"],
                f["found"],
                f["verdict"],
                _time(f.get("modified")),
                f.get("note", ""),
            )
            for f in data.get("files", [])
        ),
        symptoms=tuple(
            SymptomResult(
                s["name"],
                s["kind"],
                s["matched"],
                s["description"],
                s["count"],
                _time(s.get("first")),
                _time(s.get("last")),
                samples(s.get("samples", [])),
                s.get("known", True),
                s.get("capped", False),  # absent before issue 17: an exact count
            )
            for s in data.get("symptoms", [])
        ),
        requirements=tuple(
            RequirementResult(r["description"], r["satisfied"])
            for r in data.get("requirements", [])
        ),
        error_kind=data.get("error_kind"),
        hint=data.get("hint"),
        waiver=data.get("waiver"),
        waived_status=Status(data["waived_status"]) if data.get("waived_status") else None,
        notes=tuple(data.get("notes", [])),
        drift=data.get("drift"),
        noncompliant_since=_time(data.get("noncompliant_since")),
    )


def _evidence(host: str, facts: dict[str, Any] | None) -> Evidence | None:
    if not facts:
        return None
    os_data = dict(facts["os"])
    os_data["time_utc"] = _time(os_data.get("time_utc"))
    exchange = _exchange_facts(facts["exchange"]) if facts.get("exchange") else None
    return Evidence(
        host=host,
        engine=facts.get("engine", ""),
        os=OsFacts(**os_data),
        exchange=exchange,
        pending_reboot=facts.get("pending_reboot", False),
        pending_renames=tuple(facts.get("pending_renames", [])),
    )


class _StoredError(TransportError):
    """A host error read back from a stored run."""


def run_from_document(document: dict[str, Any], playbooks: list[Playbook]) -> AuditRun:
    """The AuditRun a stored JSON document describes (playbooks matched by id)."""
    schema = document.get("schema") if isinstance(document, dict) else None
    if schema != SCHEMA_VERSION:
        raise InputError(
            f"run document of schema {schema!r}; this remediate reads {SCHEMA_VERSION!r}",
            hint="render it with the remediate version that wrote it",
        )
    by_id = {p.id: p for p in playbooks}
    stored = [by_id[p["id"]] for p in document["playbooks"] if p["id"] in by_id]
    run = AuditRun(
        run_id=document["run_id"],
        started=_time(document["started"]),  # type: ignore[arg-type]
        playbooks=tuple(stored),
        since=_time(document["since"]),  # type: ignore[arg-type]
        finished=_time(document.get("finished")),
        interrupted=document.get("interrupted", False),
        aborted=document.get("aborted"),
    )
    for host in document["hosts"]:
        error = None
        if host.get("error"):
            error = _StoredError(
                host["error"]["message"], hint=host["error"].get("hint"), host=host["name"]
            )
            error.reason = host["error"]["kind"]
        run.results.append(
            HostResult(
                host=host["name"],
                findings=tuple(_finding(host["name"], f) for f in host["findings"]),
                evidence=_evidence(host["name"], host.get("facts")),
                error=error,
                dialect=host.get("dialect"),
                transport=host.get("transport", ""),
                address=host.get("address", ""),
                elapsed=host.get("elapsed", 0.0),
                round_trips=host.get("round_trips", 0),
            )
        )
    return run
