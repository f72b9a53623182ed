"""The pure heart: playbooks, conditions, versions, evidence, findings, evaluation, waivers.

No I/O of hosts, no clock: evidence in, findings out, `now` passed in (import contracts in
pyproject.toml keep transports, probes, reports, history, the lab and the CLI out of here).
Playbook and waiver files are read through `yamlfile`, the one reader of YAML input.
"""
