"""Audits over Kerberos against lab hosts that deny NTLM, with a real MIT KDC (issue 20).

Both ticket sources: managed (the password from the inventory, or from a vaulted variable,
turned into a ticket in the run's private cache) and manual (the user's own `kinit`). HTTP with
Kerberos message encryption and HTTPS. Then each failure a domain administrator meets, as the
host's `authentication` error in words they recognise, and no secret anywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.audit.session import audit_and_report
from remediate.connect.targets import ConnectOptions
from remediate.inventory.vault import VaultPassword, encrypt
from remediate.lab.fleet import KerberosSettings, parse_fleet
from remediate.lab.server import Lab
from remediate.rules.results import AuditRun, HostResult
from remediate.transport.kerberos_auth import TicketCache
from tests.conftest import ROOT, AuditRequestFactory
from tests.kerberos_realm import KerberosRealm

pytestmark = [pytest.mark.kerberos, pytest.mark.lab]

USER = "svc-krb"
SECRET = "Krb-S3cret#Not'Shown$"  # the domain password of USER (the realm's, not the lab's)
LAB_PASSWORD = "Lab-Only-Passw0rd!"  # what the lab hosts would check for NTLM
VAULT_PASSWORD = "kerberos vault words"
MODERN_OS = (
    "{caption: Microsoft Windows Server 2016 Standard, version: 10.0.14393, build: 14393, "
    'service_pack: 0, architecture: x64, powershell: "5.1"}'
)
HARDENED = {"ntlm": "false", "allow_unencrypted": "false", "basic": "false"}
FLEET = f"""
name: kerberos-audit
address_base: 127.43.0.1
defaults:
  os: {MODERN_OS}
  credentials: {{username: {USER}, password: "{LAB_PASSWORD}"}}
  endpoints: {{ntlm: false, allow_unencrypted: false, basic: false}}
hosts:
  - name: kx2016-01.lab.local
  - name: kx2016-02.lab.local
  - name: kx-nokrb.lab.local
    endpoints: {{kerberos: false, ntlm: true}}
"""
FIRST, SECOND, NO_KERBEROS = "kx2016-01.lab.local", "kx2016-02.lab.local", "kx-nokrb.lab.local"


@pytest.fixture(scope="module")
def kerberos_lab(kerberos_realm: KerberosRealm) -> Iterator[Lab]:
    fleet = parse_fleet(FLEET, "kerberos-audit.yml")
    kerberos_realm.add_user(USER, SECRET)
    for spec in fleet.hosts:
        kerberos_realm.add_host(spec.hostname)
    settings = KerberosSettings(realm=kerberos_realm.realm, keytab=kerberos_realm.keytab)
    with Lab(fleet, port_mode="ephemeral", admin_port=None, kerberos=settings) as lab:
        yield lab


def host_line(lab: Lab, name: str, scheme: str = "http", **variables: str) -> str:
    endpoint = lab.endpoint(name)
    port = endpoint.https_port if scheme == "https" else endpoint.http_port
    fields = {
        "ansible_host": endpoint.address,
        "ansible_port": str(port),
        "ansible_winrm_scheme": scheme,
        "ansible_winrm_transport": "kerberos",
        "ansible_user": f"{USER}@lab.local",  # the realm in lower case, as people write it
        "ansible_winrm_kerberos_hostname_override": lab.fqdn(name) or "",
        "ansible_winrm_ca_trust_path": str(lab.ca_path),
        "ansible_winrm_operation_timeout_sec": "5",
        "ansible_winrm_read_timeout_sec": "15",
        **variables,
    }
    return name + "".join(f' {key}="{value}"' for key, value in fields.items() if value != "-")


def write(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[windows]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def by_host(run: AuditRun) -> dict[str, HostResult]:
    return {result.host: result for result in run.results}


def audit(
    audit_request: AuditRequestFactory, inventory: Path, out: Path, **connect: object
) -> tuple[AuditRun, TicketCache]:
    options = ConnectOptions(**connect)  # type: ignore[arg-type]
    try:
        run = audit_and_report(audit_request(inventory, out, connect=options)).run
    finally:
        directory = options.tickets.directory
        options.tickets.close()
        assert directory is None or not directory.exists()
    return run, options.tickets


def assert_audited(run: AuditRun, *names: str) -> None:
    results = by_host(run)
    for name in names:
        assert results[name].error is None, results[name].error
        assert results[name].evidence is not None


# --- both ticket sources, HTTP and HTTPS ----------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_managed_ticket_from_the_inventory_password(
    kerberos_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path, scheme: str
) -> None:
    inventory = write(
        tmp_path / "hosts.ini",
        host_line(kerberos_lab, FIRST, scheme, ansible_password=SECRET),
        host_line(kerberos_lab, SECOND, scheme, ansible_password=SECRET),
    )
    failures = {n: kerberos_lab.counters(n)["auth_failures"] for n in (FIRST, SECOND)}
    run, tickets = audit(audit_request, inventory, tmp_path / "out")
    assert_audited(run, FIRST, SECOND)
    assert tickets.acquired == 1  # one ticket for the principal, shared by its two hosts
    for name in (FIRST, SECOND):  # no NTLM try, no refused token on the way
        assert kerberos_lab.counters(name)["auth_failures"] == failures[name]
        assert kerberos_lab.counters(name)["shells_open"] == 0


def test_managed_ticket_from_a_vaulted_variable(
    kerberos_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    envelope = encrypt(SECRET, VAULT_PASSWORD).splitlines()
    inventory = tmp_path / "inventory"
    write(
        inventory / "hosts.ini",
        host_line(kerberos_lab, FIRST, ansible_password="{{ vault_krb_password }}"),
    )
    (inventory / "group_vars").mkdir()
    (inventory / "group_vars" / "windows.yml").write_text(
        "vault_krb_password: !vault |\n" + "".join(f"  {line}\n" for line in envelope),
        encoding="utf-8",
    )
    vault = (VaultPassword(VAULT_PASSWORD),)
    run, tickets = audit(audit_request, inventory, tmp_path / "out", vault_passwords=vault)
    assert_audited(run, FIRST)
    assert tickets.acquired == 1


def test_manual_ticket_from_the_users_kinit(
    kerberos_lab: Lab,
    kerberos_realm: KerberosRealm,
    audit_request: AuditRequestFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ccache = tmp_path / "user.ccache"
    kerberos_realm.kinit(f"{USER}@{kerberos_realm.realm}", SECRET, ccache)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    inventory = write(
        tmp_path / "hosts.ini",
        host_line(kerberos_lab, FIRST),
        host_line(kerberos_lab, SECOND, "https", ansible_winrm_kinit_mode="manual"),
    )
    before = ccache.read_bytes()
    run, tickets = audit(audit_request, inventory, tmp_path / "out")
    assert_audited(run, FIRST, SECOND)
    assert tickets.acquired == 0 and tickets.directory is None  # no ticket of ours
    assert ccache.read_bytes() != before  # the service tickets went into the user's cache


def test_manual_mode_without_a_ticket_says_to_run_kinit(
    kerberos_lab: Lab,
    audit_request: AuditRequestFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'no-such.ccache'}")
    inventory = write(tmp_path / "hosts.ini", host_line(kerberos_lab, FIRST))
    run, _ = audit(audit_request, inventory, tmp_path / "out")
    error = by_host(run)[FIRST].error
    assert error is not None and error.reason == "authentication"
    assert "no Kerberos" in error.message and "kinit" in (error.hint or "")


# --- what a domain administrator meets -----------------------------------------------------


def error_of(run: AuditRun, name: str, *words: str) -> str:
    error = by_host(run)[name].error
    assert error is not None and error.reason == "authentication", error
    text = f"{error.message} (hint: {error.hint})"
    for word in words:
        assert word in text, text
    assert SECRET not in text
    return text


def test_an_address_without_the_spn_name_is_an_unknown_spn(
    kerberos_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    line = host_line(
        kerberos_lab,
        FIRST,
        ansible_password=SECRET,
        ansible_winrm_kerberos_hostname_override="-",
    )
    run, _ = audit(audit_request, write(tmp_path / "hosts.ini", line), tmp_path / "out")
    address = kerberos_lab.endpoint(FIRST).address
    error_of(run, FIRST, "unknown SPN", f"HTTP/{address}", "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN")


def test_a_wrong_password_is_asked_once_for_all_the_users_hosts(
    kerberos_lab: Lab,
    kerberos_realm: KerberosRealm,
    audit_request: AuditRequestFactory,
    tmp_path: Path,
) -> None:
    kerberos_realm.add_user("krb-wrong", "Right-Passw0rd!")
    wrong = {"ansible_user": "krb-wrong@LAB.LOCAL", "ansible_password": "Wrong-Passw0rd!"}
    inventory = write(
        tmp_path / "hosts.ini",
        host_line(kerberos_lab, FIRST, **wrong),
        host_line(kerberos_lab, SECOND, **wrong),
    )
    log_before = kerberos_realm.kdc_log().count("krb-wrong@LAB.LOCAL")
    run, tickets = audit(audit_request, inventory, tmp_path / "out")
    for name in (FIRST, SECOND):
        error_of(run, name, "wrong password", "krb-wrong@LAB.LOCAL", "lock")
    assert tickets.acquired == 0
    refusals = kerberos_realm.kdc_log().count("krb-wrong@LAB.LOCAL") - log_before
    assert 0 < refusals <= 2  # one AS exchange (MIT logs the pre-auth round and the refusal)


def test_an_unknown_user_and_an_expired_password(
    kerberos_lab: Lab,
    kerberos_realm: KerberosRealm,
    audit_request: AuditRequestFactory,
    tmp_path: Path,
) -> None:
    kerberos_realm.add_user("krb-expired", "Expired-Passw0rd!", expired=True)
    inventory = write(
        tmp_path / "hosts.ini",
        host_line(
            kerberos_lab, FIRST, ansible_user="nobody@LAB.LOCAL", ansible_password="x-Passw0rd"
        ),
        host_line(
            kerberos_lab,
            SECOND,
            ansible_user="krb-expired@LAB.LOCAL",
            ansible_password="Expired-Passw0rd!",
        ),
    )
    run, _ = audit(audit_request, inventory, tmp_path / "out")
    error_of(run, FIRST, "unknown user", "KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN")
    error_of(run, SECOND, "expired", "KRB5KDC_ERR_KEY_EXP", "change")


def test_a_kdc_that_does_not_answer(
    kerberos_lab: Lab,
    kerberos_realm: KerberosRealm,
    audit_request: AuditRequestFactory,
    tmp_path: Path,
) -> None:
    line = host_line(kerberos_lab, FIRST, ansible_password=SECRET)
    with kerberos_realm.unreachable_kdc():
        run, _ = audit(audit_request, write(tmp_path / "hosts.ini", line), tmp_path / "out")
    error_of(run, FIRST, "no KDC", "KRB5_KDC_UNREACH", "port 88")


def test_a_kdc_whose_clock_is_skewed(
    kerberos_lab: Lab,
    kerberos_realm: KerberosRealm,
    audit_request: AuditRequestFactory,
    tmp_path: Path,
) -> None:
    line = host_line(kerberos_lab, FIRST, ansible_password=SECRET)
    with kerberos_realm.skewed_kdc(900):
        run, _ = audit(audit_request, write(tmp_path / "hosts.ini", line), tmp_path / "out")
    error_of(run, FIRST, "clock skew", "KRB5KRB_AP_ERR_SKEW", "NTP")


def test_a_ticket_for_another_hosts_spn_is_refused_by_the_host(
    kerberos_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    line = host_line(
        kerberos_lab,
        FIRST,
        ansible_password=SECRET,
        ansible_winrm_kerberos_hostname_override=kerberos_lab.fqdn(SECOND) or "",
    )
    run, _ = audit(audit_request, write(tmp_path / "hosts.ini", line), tmp_path / "out")
    error_of(run, FIRST, "refused the Kerberos ticket", f"HTTP/{kerberos_lab.fqdn(SECOND)}")


def test_ntlm_on_a_host_that_denies_it_and_kerberos_on_a_host_without_it(
    kerberos_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    ntlm = {
        "ansible_winrm_transport": "ntlm",
        "ansible_user": f"LAB\\\\{USER}",
        "ansible_password": LAB_PASSWORD,
        "ansible_winrm_kerberos_hostname_override": "-",
    }
    inventory = write(
        tmp_path / "hosts.ini",
        host_line(kerberos_lab, FIRST, **ntlm),
        host_line(kerberos_lab, NO_KERBEROS, ansible_password=SECRET),
    )
    run, _ = audit(audit_request, inventory, tmp_path / "out")
    error_of(run, FIRST, "NTLM", "Restrict NTLM", "kerberos")
    error_of(run, NO_KERBEROS, "refused the Kerberos ticket")


# --- no secret anywhere ----------------------------------------------------------------------


def test_no_password_ticket_or_key_in_output_report_history_or_temp(
    kerberos_lab: Lab, tmp_path: Path, own_state_home: Path
) -> None:
    """The CLI, at -vvv, with a managed ticket and one host failing: the password is in no
    output, report or history, and the run's private cache is gone when the command ends."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    inventory = write(
        tmp_path / "hosts.ini",
        host_line(kerberos_lab, FIRST, ansible_password=SECRET),
        host_line(kerberos_lab, SECOND, "https", ansible_password=SECRET),
        host_line(
            kerberos_lab,
            NO_KERBEROS,
            ansible_password=SECRET,
            ansible_winrm_kerberos_hostname_override="-",
        ),
    )
    out = tmp_path / "out"
    env = {**os.environ, "TMPDIR": str(temp)}
    audit_run = subprocess.run(
        [sys.executable, "-m", "remediate", "-vvv", "audit", str(inventory), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert audit_run.returncode == 3, audit_run.stdout + audit_run.stderr
    assert "auth kerberos" in audit_run.stderr  # -v says how each host is reached
    assert f"SPN HTTP/{kerberos_lab.fqdn(FIRST)}, ticket from the password" in audit_run.stderr
    assert audit_run.stderr.count(f"Kerberos ticket of {USER}@LAB.LOCAL ready") == 3
    assert "unknown SPN" in audit_run.stdout  # the third host's error, in words
    assert "Traceback" not in audit_run.stderr  # pywinrm's Kerberos logging stays quiet
    listing = subprocess.run(
        [sys.executable, "-m", "remediate", "inventory", str(inventory), "--vars"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert listing.returncode == 0 and "managed" in listing.stdout
    texts = [audit_run.stdout, audit_run.stderr, listing.stdout, listing.stderr]
    files = [p for p in [*out.rglob("*"), *own_state_home.rglob("*")] if p.is_file()]
    assert files
    texts += [p.read_bytes().decode("utf-8", errors="replace") for p in files]
    for text in texts:
        assert SECRET not in text and "S3cret" not in text
        assert "krbtgt/" not in text  # no ticket, nor its name
    assert not list(temp.iterdir())  # the run's ticket cache was removed at exit


def test_delegation_and_the_service_name_reach_the_kerberos_exchange(
    kerberos_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    inventory = write(
        tmp_path / "hosts.ini",
        host_line(
            kerberos_lab,
            FIRST,
            ansible_password=SECRET,
            ansible_winrm_kerberos_delegation="true",
            ansible_winrm_service="HTTP",
        ),
        host_line(kerberos_lab, SECOND, ansible_password=SECRET, ansible_winrm_service="WSMAN"),
    )
    run, _ = audit(audit_request, inventory, tmp_path / "out")
    assert_audited(run, FIRST)
    error_of(run, SECOND, "unknown SPN", f"WSMAN/{kerberos_lab.fqdn(SECOND)}")
