"""Public facts about Windows kept as data: version families, optional components by mechanism.

Shared by the rules, the remediation steps and the lab, so each fact is written once, with its
source.
"""
