"""An approved remediation applied over Kerberos to a host that denies NTLM (issue 20).

The plan's audit, the steps and the reconnections after each reboot all log on with the run's
managed ticket: one ticket for the whole apply, and no password or ticket in the plan file or
the journal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediate.connect.targets import ConnectOptions
from remediate.lab.fleet import KerberosSettings, load_fleet
from remediate.lab.server import Lab
from remediate.remediation.apply import ApplyOptions, apply_plan
from remediate.remediation.journal import Journal, journal_path
from remediate.remediation.plan import load_plan, save_plan
from remediate.remediation.planning import make_plan
from remediate.remediation.signing import ALLOWED_SIGNERS_ENV
from remediate.rules.playbook import load_playbooks
from tests.conftest import DEMO_FLEET, PLAYBOOKS
from tests.kerberos_realm import KerberosRealm
from tests.remediation.conftest import sign_and_approve, signing_keys

pytestmark = [pytest.mark.kerberos, pytest.mark.lab]

EX2003 = "ex2003-kb840469-before.lab.local"
USER, SECRET = "svc-apply", "Apply-Krb-S3cret#Not'Shown"
PLAYBOOK = {p.id: p for p in load_playbooks([PLAYBOOKS])}["KB840469"]


@pytest.fixture(scope="module")
def kerberos_lab(kerberos_realm: KerberosRealm) -> Iterator[Lab]:
    fleet = load_fleet(DEMO_FLEET)
    fleet.hosts = [h for h in fleet.hosts if h.name == EX2003]
    (spec,) = fleet.hosts
    spec.address = "127.43.1.1"
    spec.credentials.username = USER
    spec.endpoints.ntlm = False  # Restrict NTLM: Incoming NTLM traffic = Deny all
    spec.endpoints.allow_unencrypted = False
    spec.faults.reboot_seconds = 1.0
    kerberos_realm.add_user(USER, SECRET)
    kerberos_realm.add_host(spec.hostname)
    settings = KerberosSettings(realm=kerberos_realm.realm, keytab=kerberos_realm.keytab)
    with Lab(fleet, port_mode="ephemeral", admin_port=None, kerberos=settings) as lab:
        yield lab


def test_plan_and_apply_over_kerberos_leave_no_secret_in_plan_or_journal(
    kerberos_lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOWED_SIGNERS_ENV, str(signing_keys().allowed_signers))
    endpoint = kerberos_lab.endpoint(EX2003)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[exchange]\n"
        f"{EX2003} ansible_host={endpoint.address} ansible_port={endpoint.http_port}\n"
        "[exchange:vars]\n"
        "ansible_winrm_scheme=http\n"
        "ansible_winrm_transport=kerberos\n"
        f"ansible_user={USER}@lab.local\n"
        f'ansible_password="{SECRET}"\n'
        f"ansible_winrm_kerberos_hostname_override={kerberos_lab.fqdn(EX2003)}\n",
        encoding="utf-8",
    )
    planning = ConnectOptions(timeout=30)
    plan = make_plan(inventory, PLAYBOOK, EX2003, "alice", planning, datetime.now(UTC))
    planning.tickets.close()
    assert [h.host for h in plan.hosts] == [EX2003], plan.unaudited
    path = sign_and_approve(save_plan(plan, tmp_path / "plan.json"))
    applying = ConnectOptions(timeout=30)
    outcomes = apply_plan(
        path,
        load_plan(path),
        PLAYBOOK,
        ApplyOptions(confirm_manual=True, operator="carol", reboot_timeout=60),
        applying,
    )
    assert {o.host: o.status for o in outcomes} == {EX2003: "done"}, outcomes
    assert applying.tickets.acquired == 1  # steps, probes and reconnections share one ticket
    applying.tickets.close()
    events = Journal(journal_path(path)).entries()
    assert any(e.event == "step_end" and "restarted" in str(e.data) for e in events)
    for written in (path, journal_path(path)):
        text = written.read_text(encoding="utf-8", errors="replace")
        assert SECRET not in text and "S3cret" not in text and "krbtgt" not in text
