"""One audit run: what to ask each host, asking every host in parallel, and the whole command.

`request` turns the selected playbooks into one collect request (what every host is asked);
`host` runs the collector on one host over its transport (PowerShell, else JScript); `run`
audits hosts in parallel, each under its timeout, Ctrl-C closing every shell; `session` is what
`remediate audit` and the demo share: load the inventory and playbooks, make the targets, audit,
apply waivers, record history, write reports.
"""
