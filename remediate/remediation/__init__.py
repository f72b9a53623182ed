"""Remediation: plans, operator approval, applying steps with a journal, verification."""
