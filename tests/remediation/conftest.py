"""Helpers for tests that apply plans.

    sign_and_approve(plan_path) -> plan_path
        The plan file (as `save_plan` wrote it) signed by its planner and approved by a second
        person, ready for `apply_plan` or `remediate apply`.
    approvers_args() -> list[str]
        The arguments `remediate apply` needs to trust those signatures (`--approvers FILE`).

Being switched to SSH signatures (issue 15): the plan signed with a test key of "alice", the
approval with one of "bob", both in a test allowed-signers file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from remediate.remediation.plan import approve, load_plan, save_plan


def sign_and_approve(plan_path: Path) -> Path:
    """Sign the plan at `plan_path` as its planner and approve it as a second person."""
    return save_plan(approve(load_plan(plan_path), "bob", datetime.now(UTC)), plan_path)


def approvers_args() -> list[str]:
    """What `remediate apply` needs on its command line to accept `sign_and_approve`'s plans."""
    return []
