"""The JSON report: one object per run, versioned schema (see `SCHEMA_VERSION`).

Schema 1::

    {"schema": "remediate.audit/1", "run_id", "started", "finished", "interrupted",
     "aborted", "since", "tool": {"name", "version"},
     "playbooks": [{"id", "title", "severity", "source"}],
     "summary": {status: count},
     "hosts": [{"name", "address", "transport", "dialect", "elapsed", "round_trips",
                "error": null | {"kind", "message", "hint"},
                "facts": {...} | null,
                "findings": [{"playbook", "status", "reason", "facts", "files", "symptoms",
                              "requirements", "error_kind", "hint", "waiver", "waived_status",
                              "notes"}]}]}

Times are ISO 8601 in UTC. Nothing secret is ever part of a run.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from remediate import __version__
from remediate.audit import AuditRun, HostResult

SCHEMA_VERSION = "remediate.audit/1"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _host(result: HostResult) -> dict[str, Any]:
    evidence = result.evidence
    facts = None
    if evidence is not None:
        facts = {
            "os": asdict(evidence.os),
            "exchange": asdict(evidence.exchange) if evidence.exchange else None,
            "pending_reboot": evidence.pending_reboot,
            "pending_renames": list(evidence.pending_renames),
            "engine": evidence.engine,
            "errors": [asdict(e) for e in evidence.errors],
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
        document = asdict(finding)
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
    document = {
        "schema": SCHEMA_VERSION,
        "run_id": run.run_id,
        "started": run.started,
        "finished": run.finished,
        "interrupted": run.interrupted,
        "aborted": run.aborted,
        "since": run.since,
        "tool": {"name": "remediate", "version": __version__},
        "playbooks": [
            {"id": p.id, "title": p.title, "severity": p.severity, "source": p.source}
            for p in run.playbooks
        ],
        "summary": {status.value: count for status, count in run.counts().items()},
        "hosts": [_host(r) for r in sorted(run.results, key=lambda r: r.host)],
    }
    return _plain(document)


def write_json(run: AuditRun, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run_document(run), indent=2, ensure_ascii=False), encoding="utf-8")
    return path
