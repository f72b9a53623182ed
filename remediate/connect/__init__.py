"""A host's connection settings and secrets, the one room where they are decided.

`variables` reads a host's Ansible variables into WinRM or SSH settings, `passwords` decides
where its password comes from, `secrets` keeps that password out of every output, and `targets`
turns the hosts of a run into targets a transport can open (`host_target`, what the audit
needs of one).
"""
