"""Waivers: accepted exceptions, each with a justification and an expiry date.

A waivers file::

    waivers:
      - hosts: "ex55-*.corp.local"        # a host pattern (fnmatch), or a list of them
        playbook: Q232602                 # an article id, or "*"
        justification: MTA replaced by the Exchange 2003 bridgehead in January
        expires: 2026-12-31
        approved_by: J. Smith             # optional

A waiver turns a finding that needs action (or could not be decided) into `waived`, keeping
the original status beside it. An expired waiver no longer applies, and the finding says so.
"""

from __future__ import annotations

import fnmatch
from dataclasses import replace
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from remediate.errors import InputError
from remediate.rules.findings import Finding, Status
from remediate.yamlfile import YamlInputError, load_located, read_utf8

_NOT_WAIVABLE = {Status.NOT_APPLICABLE, Status.COMPLIANT}


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hosts: list[str] = Field(min_length=1)
    playbook: str = Field(min_length=1)
    justification: str = Field(min_length=3)
    expires: date
    approved_by: str | None = None

    @field_validator("hosts", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def covers(self, host: str, playbook: str) -> bool:
        host_match = any(fnmatch.fnmatch(host.lower(), p.lower()) for p in self.hosts)
        return host_match and (self.playbook == "*" or self.playbook.lower() == playbook.lower())


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    waivers: list[Waiver] = []

    @field_validator("waivers", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value  # `waivers:` with nothing under it yet


class WaiverError(InputError):
    """A waivers file that cannot be used."""


def parse_waivers(text: str, source: str) -> list[Waiver]:
    if not text.strip(" \t\r\n\ufeff"):
        return []  # only blanks: YAML itself refuses a tab where a token may start
    try:
        located = load_located(text, source)
    except YamlInputError as exc:
        raise WaiverError(str(exc), line=exc.line) from None
    data = located.data
    # An empty file, only comments, `null`, `[]`, `{}`, `waivers:` or `waivers: []`: no waivers.
    if data is None or data == [] or data == {}:
        return []
    if not isinstance(data, dict):
        raise WaiverError(
            f"{source}: a waivers file is a mapping with a `waivers:` list, not a {_kind(data)}",
            hint="start the file with `waivers:` and list each waiver under it",
        )
    try:
        return list(WaiverFile.model_validate(data).waivers)
    except ValidationError as exc:
        error = located.validation_error(exc)
        raise WaiverError(str(error), line=error.line) from None


def _kind(data: object) -> str:
    return "list" if isinstance(data, list) else f"single value ({type(data).__name__})"


def load_waivers(path: Path) -> list[Waiver]:
    try:
        text = read_utf8(path)
    except YamlInputError as exc:
        raise WaiverError(str(exc)) from None
    return parse_waivers(text, str(path))


def apply_waivers(findings: list[Finding], waivers: list[Waiver], today: date) -> list[Finding]:
    """Findings with waivers applied; expired waivers leave a note instead."""
    result = []
    for finding in findings:
        if finding.status in _NOT_WAIVABLE:
            result.append(finding)
            continue
        matching = [w for w in waivers if w.covers(finding.host, finding.playbook)]
        valid = [w for w in matching if w.expires >= today]
        if valid:
            waiver = max(valid, key=lambda w: w.expires)
            by = f", approved by {waiver.approved_by}" if waiver.approved_by else ""
            text = f"{waiver.justification} (until {waiver.expires:%Y-%m-%d}{by})"
            result.append(
                replace(
                    finding,
                    status=Status.WAIVED,
                    waived_status=finding.status,
                    waiver=text,
                    reason=f"waived: {finding.reason}",
                )
            )
        elif matching:
            expired = max(matching, key=lambda w: w.expires)
            note = f"waiver expired on {expired.expires:%Y-%m-%d}: {expired.justification}"
            result.append(replace(finding, notes=(*finding.notes, note)))
        else:
            result.append(finding)
    return result
