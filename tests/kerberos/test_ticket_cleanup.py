"""The run's private ticket cache is gone when `remediate audit` is stopped mid-run with Ctrl-C
or SIGTERM (kill, systemd, a CI runner's timeout) (issue 20): the ticket is on disk only while
the run needs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.lab.fleet import KerberosSettings, parse_fleet
from remediate.lab.server import Lab
from tests.conftest import ROOT, interruptible
from tests.kerberos_realm import KerberosRealm

pytestmark = [pytest.mark.kerberos, pytest.mark.lab]

USER, SECRET = "svc-ctrlc", "CtrlC-Krb-Passw0rd!"
SLOW = "kx-slow.lab.local"
FLEET = f"""
name: kerberos-ctrlc
address_base: 127.43.2.1
defaults:
  os: {{caption: Microsoft Windows Server 2016 Standard, version: 10.0.14393, build: 14393,
        service_pack: 0, architecture: x64, powershell: "5.1"}}
  credentials: {{username: {USER}}}
  endpoints: {{ntlm: false, allow_unencrypted: false}}
hosts:
  - name: {SLOW}
    faults: {{slow_probe_seconds: 60}}
"""


@pytest.fixture(scope="module")
def slow_lab(kerberos_realm: KerberosRealm) -> Iterator[Lab]:
    fleet = parse_fleet(FLEET, "kerberos-ctrlc.yml")
    kerberos_realm.add_user(USER, SECRET)
    kerberos_realm.add_host(fleet.hosts[0].hostname)
    settings = KerberosSettings(realm=kerberos_realm.realm, keytab=kerberos_realm.keytab)
    with Lab(fleet, port_mode="ephemeral", admin_port=None, kerberos=settings) as lab:
        yield lab


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_an_audit_removes_the_ticket_cache(
    slow_lab: Lab, tmp_path: Path, stop: signal.Signals
) -> None:
    endpoint = slow_lab.endpoint(SLOW)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        f"{SLOW} ansible_host={endpoint.address} ansible_port={endpoint.http_port}"
        " ansible_winrm_scheme=http ansible_winrm_transport=kerberos"
        f" ansible_user={USER}@LAB.LOCAL ansible_password={SECRET}"
        f" ansible_winrm_kerberos_hostname_override={slow_lab.fqdn(SLOW)}\n",
        encoding="utf-8",
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "remediate", "audit", str(inventory), "-o", str(tmp_path / "o")],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=interruptible,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(temp.glob("remediate-krb5-*/*")) or not slow_lab.open_shells():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the audit never got its ticket"
            time.sleep(0.1)
        process.send_signal(stop)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, out + err
    assert not list(temp.iterdir())  # the ticket cache went with the run
    assert SECRET.encode() not in out + err
