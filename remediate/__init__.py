"""Agentless audit and remediation for Exchange and Windows fleets."""

__version__ = "0.1.0"
