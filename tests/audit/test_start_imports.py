"""What a run imports before its first host: each module costs every run its import (issue 18,
the run's fixed CPU), so those only some runs use wait until they are used.

Watched in a fresh interpreter (this one has imported everything): the audit's own child
process, and the forkserver of a run over workers, which imports `remediate.audit.workers`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from remediate.connect.targets import ConnectOptions, targets_for
from remediate.inventory import load_sources
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.transport.factory import first_use_modules
from remediate.transport.settings import SshSettings, WinRMSettings
from tests.conftest import PLAYBOOKS, ROOT

WATCHED = ("jinja2", "remediate.remediation", "remediate.inventory", "spnego")

AUDIT_THEN_LIST = """
import json, sys
from remediate.cli import main
listing, *arguments = sys.argv[1:]
sys.argv = ["remediate", "audit", *arguments]
try:
    main()
finally:
    watched = json.loads(listing)
    print(json.dumps(sorted(m for m in watched if m in sys.modules)), file=sys.__stderr__)
"""


def loaded_by_audit(inventory: Path, output: Path, formats: str) -> list[str]:
    """The WATCHED modules a real `remediate audit` of ex2003 had loaded when it ended."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            AUDIT_THEN_LIST,
            json.dumps(WATCHED),
            str(inventory),
            "--limit",
            "ex2003.lab.local",
            "--playbooks",
            str(PLAYBOOKS),
            "-o",
            str(output),
            "--no-history",
            "--format",
            formats,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert (output / "latest.json").is_file()
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_an_audit_loads_jinja2_and_remediation_only_for_an_html_report(
    lab: Lab, tmp_path: Path
) -> None:
    inventory = write_inventory(lab, tmp_path / "hosts.ini")  # plain values, no template
    plain = loaded_by_audit(inventory, tmp_path / "json", "json")
    assert plain == ["remediate.inventory", "spnego"]
    with_html = loaded_by_audit(inventory, tmp_path / "html", "html,json")
    assert with_html == ["jinja2", "remediate.inventory", "remediate.remediation", "spnego"]
    assert (tmp_path / "html" / "latest.html").is_file()


def modules_after(code: str) -> list[str]:
    """Every module a fresh interpreter holds after running `code`."""
    listing = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", listing], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def unwanted(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in ("jinja2", "cryptography") or m in WATCHED]


def test_the_forkserver_preload_reads_no_inventory_and_renders_no_template() -> None:
    modules = modules_after("import remediate.audit.workers")
    assert "remediate.audit.run" in modules
    assert unwanted(modules) == []


def test_a_run_over_workers_starts_without_jinja2_remediation_or_cryptography() -> None:
    """The parent of a run over workers contacts no host itself: no pyspnego either."""
    modules = modules_after("import remediate.cli, remediate.cli.audit, remediate.audit.session")
    assert "remediate.audit.workers" in modules
    assert unwanted(modules) == ["remediate.inventory"]


@pytest.mark.parametrize(
    ("settings", "modules"),
    [
        (WinRMSettings("h", auth="ntlm"), ("remediate.transport.winrm", "spnego")),
        (WinRMSettings("h", auth="basic"), ("remediate.transport.winrm",)),
        (WinRMSettings("h", auth="kerberos"), ("remediate.transport.winrm",)),
        (SshSettings("h"), ("remediate.transport.ssh",)),
    ],
)
def test_a_connection_names_what_it_imports_on_first_use(
    settings: WinRMSettings | SshSettings, modules: tuple[str, ...]
) -> None:
    assert first_use_modules(settings) == modules


def test_each_target_carries_its_connections_modules_for_the_forkserver(
    lab: Lab, tmp_path: Path
) -> None:
    inventory = write_inventory(lab, tmp_path / "hosts.ini")
    hosts = load_sources([str(inventory)]).hosts
    found = targets_for(hosts, ConnectOptions())
    by_transport = {target.transport: target.modules for target in found.targets}
    assert by_transport["winrm"] == ("remediate.transport.winrm", "spnego")  # NTLM
    assert by_transport["ssh"] == ("remediate.transport.ssh",)
