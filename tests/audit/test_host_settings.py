"""One host's settings never stop an audit; hosts whose connection we do not use are skipped.

Against a lab, through an Ansible tree (group_vars, a vault file, a templated password): a host
without a user is that host's `configuration` error while the others are audited; `localhost`
with ansible_connection=local is in the run as skipped and changes neither the exit code nor
the retry file (issue 14).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.audit.run import SKIPPED, AuditOptions, run_audit
from remediate.audit.session import AuditStart, Selected, audit_and_report
from remediate.connect.targets import ConnectOptions, SkippedHost
from remediate.inventory.patterns import NO_MATCH
from remediate.inventory.vault import VaultPassword
from remediate.lab.server import Lab
from remediate.report.junit import render_junit
from remediate.rules.findings import NON_COMPLIANT, Status
from remediate.rules.playbook import load_playbooks
from remediate.rules.results import AuditRun, HostResult
from tests.audit.ansible_tree import (
    HEALTHY,
    LOCAL,
    NEEDS_FIX,
    NO_USER,
    VAULT_PASSWORD,
    tree_lab,
    write_tree,
)
from tests.conftest import PASSWORD, PLAYBOOKS, AuditRequestFactory

VAULT = ConnectOptions(vault_passwords=(VaultPassword(VAULT_PASSWORD),))


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with tree_lab(1) as running:
        yield running


@pytest.fixture
def prod(lab: Lab, tmp_path: Path) -> Path:
    return write_tree(lab, tmp_path / "ansible")


def by_host(run: AuditRun) -> dict[str, HostResult]:
    return {result.host: result for result in run.results}


def test_a_host_without_a_user_fails_alone_and_localhost_is_skipped(
    prod: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    starts: list[AuditStart] = []
    heard: list[str] = []
    request = audit_request(prod, tmp_path / "reports", connect=VAULT, formats=("json", "junit"))
    outcome = audit_and_report(
        request, on_start=starts.append, on_result=lambda r: heard.append(r.host)
    )
    results = by_host(outcome.run)
    assert set(results) == {HEALTHY, NEEDS_FIX, NO_USER, LOCAL}
    # the password came from the vault file, through the template in group_vars
    assert results[HEALTHY].error is None
    assert {f.status for f in results[HEALTHY].findings} <= {
        Status.COMPLIANT,
        Status.NOT_APPLICABLE,
    }
    needs_fix = {f.playbook: f.status for f in results[NEEDS_FIX].findings}
    assert needs_fix["KB840469"] in NON_COMPLIANT
    # no user: this host's configuration error, with what to do
    error = results[NO_USER].error
    assert error is not None and error.reason == "configuration"
    assert "no user name" in error.message and "ansible_user" in (error.hint or "")
    assert {(f.status, f.error_kind) for f in results[NO_USER].findings} == {
        (Status.ERROR, "configuration")
    }
    # localhost: skipped, with the reason; never contacted nor counted
    local = results[LOCAL]
    assert local.error is None and not local.failed and local.transport == "local"
    assert {f.status for f in local.findings} == {Status.NOT_APPLICABLE}
    assert {f.error_kind for f in local.findings} == {SKIPPED}
    assert all(f.reason.startswith("skipped: ansible_connection='local'") for f in local.findings)
    assert [s.name for s in outcome.skipped] == [LOCAL]
    assert starts[0].hosts == 3 and [s.name for s in starts[0].skipped] == [LOCAL]
    assert sorted(heard) == sorted([HEALTHY, NEEDS_FIX, NO_USER])  # not the skipped host
    # retry file: the failed host only
    assert outcome.retry_file is not None
    assert outcome.retry_file.read_text().split() == [NO_USER]
    # JUnit: skipped, not failed
    junit = next(path for path in outcome.reports if path.suffix == ".xml")
    cases = {
        (case.get("classname"), case.get("name")): case
        for case in ET.parse(junit).getroot().iter("testcase")  # noqa: S314 (our own report)
    }
    local_case = cases[("KB840469", LOCAL)]
    assert local_case.find("skipped") is not None and local_case.find("error") is None
    assert cases[("KB840469", NO_USER)].find("error") is not None
    assert PASSWORD not in junit.read_text()
    assert outcome.run.exit_code() == 1  # NEEDS_FIX's missing fix


def test_the_exit_code_is_the_host_errors_one_and_a_skip_changes_nothing(
    prod: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    errors = audit_and_report(
        audit_request(prod, tmp_path / "a", connect=VAULT, limit=f"{HEALTHY}:{NO_USER}:{LOCAL}")
    )
    assert errors.run.exit_code() == 3  # as documented: at least one host error
    skipped_only = audit_and_report(
        audit_request(prod, tmp_path / "b", connect=VAULT, limit=f"{HEALTHY}:{LOCAL}")
    )
    assert skipped_only.run.exit_code() == 0
    assert skipped_only.retry_file is None


def test_stale_pattern_parts_warn_before_the_audit_and_the_rest_is_audited(
    prod: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    retry = tmp_path / "remediate.retry"
    retry.write_text(f"{HEALTHY}\nretired01.lab.local\n")
    selected: list[Selected] = []
    outcome = audit_and_report(
        audit_request(prod, tmp_path / "reports", connect=VAULT, limit=f"@{retry}"),
        on_selected=selected.append,
    )
    assert [h.name for h in selected[0].hosts] == [HEALTHY]
    assert selected[0].warnings == (NO_MATCH + "retired01.lab.local",)
    assert [r.host for r in outcome.run.results] == [HEALTHY]


def test_a_wrong_vault_password_for_a_vault_value_fails_only_the_hosts_using_it(
    lab: Lab, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    prod = write_tree(lab, tmp_path / "ansible", inline_vault=True)
    wrong = ConnectOptions(vault_passwords=(VaultPassword("not the vault password"),))
    requests_before = lab.counters(HEALTHY)["requests"]
    run = audit_and_report(audit_request(prod, tmp_path / "reports", connect=wrong)).run
    results = by_host(run)
    for name in (HEALTHY, NEEDS_FIX):
        error = results[name].error
        assert error is not None and error.reason == "configuration"
        assert "wrong vault password" in error.message and "vault.yml" in error.message
        assert PASSWORD not in error.message
    assert results[LOCAL].error is None
    assert lab.counters(HEALTHY)["requests"] == requests_before  # no logon with a bad password
    right = audit_and_report(audit_request(prod, tmp_path / "again", connect=VAULT)).run
    assert by_host(right)[HEALTHY].error is None  # the same tree opens with the right password


def test_run_audit_puts_the_skipped_hosts_in_the_run_without_calling_back() -> None:
    playbooks = load_playbooks([PLAYBOOKS])
    skip = SkippedHost("box", "docker", "ansible_connection='docker': not ours")
    heard: list[HostResult] = []
    run = run_audit([], playbooks, AuditOptions(), heard.append, skipped=[skip])
    assert heard == [] and [r.host for r in run.results] == ["box"]
    (result,) = run.results
    assert len(result.findings) == len(playbooks)
    assert {f.reason for f in result.findings} == {"skipped: ansible_connection='docker': not ours"}
    assert run.exit_code() == 0 and run.failed_hosts == []
    junit = ET.fromstring(render_junit(run))  # noqa: S314 (our own report)
    assert junit.get("skipped") == str(len(playbooks)) and junit.get("errors") == "0"
