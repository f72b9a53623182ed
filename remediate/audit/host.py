"""Collect a host's evidence in one round trip, in the dialect the host can run.

The dialect is `remediate_shell` when the inventory says; otherwise PowerShell is tried and,
when the host answers that it has no PowerShell, the WSH/JScript dialect follows (one extra
round trip, for such hosts only).

One of three "collect" pieces, each in its room:
- `remediate.audit.request`: *what to ask*, the `CollectRequest` the selected playbooks need;
- `remediate.probes.collect`: *the script and its parser*, request -> script text, output ->
  `Evidence`, with no transport;
- this module: *running it on one host* over a transport (dialect fallback, unusable output
  turned into a `ProbeError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from remediate.errors import ProbeError
from remediate.probes.collect import CollectRequest, build_collect_script, parse_evidence
from remediate.probes.framing import OutputFormatError
from remediate.rules.evidence import Evidence
from remediate.transport import Dialect, Transport

POWERSHELL_MISSING = re.compile(rb"'powershell(?:\.exe)?' is not recognized", re.IGNORECASE)


@dataclass(frozen=True)
class Collection:
    evidence: Evidence
    dialect: Dialect
    round_trips: int
    elapsed: float


def collect(
    transport: Transport, host: str, request: CollectRequest, shell: Dialect | None = None
) -> Collection:
    """Run the collector on one host and validate what it printed."""
    dialect: Dialect = shell or "powershell"
    result = transport.run(build_collect_script(request, dialect), dialect)
    round_trips, elapsed = 1, result.elapsed
    if shell is None and POWERSHELL_MISSING.search(result.stderr):
        dialect = "wsh"
        result = transport.run(build_collect_script(request, dialect), dialect)
        round_trips, elapsed = 2, elapsed + result.elapsed
    try:
        evidence = parse_evidence(host, result.stdout)
    except OutputFormatError as exc:
        first_error = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ProbeError(
            f"the collector's output is unusable: {exc}",
            host=host,
            hint=f"stderr said: {first_error[0][:200]}" if first_error else None,
        ) from None
    return Collection(evidence, dialect, round_trips, elapsed)
