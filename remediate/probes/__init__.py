"""The scripts that run on hosts (package data) and the formats they share with Python.

- `collect.ps1`/`collect.js`, `step.ps1`/`step.js`, sharing `common.ps1`/`common.js`
  (spliced in by `shipped`);
- `protocol`: how a script declares itself and receives its one encoded arguments document;
- `assemble`: the one way a shipped script becomes the text sent (declaration, arguments, code);
- `framing`: the framed records a script prints, and their strict parser;
- `quoting`: how an argument is written on a Windows command line;
- `collect`, `step`: each script's request and result (`build_collect_script` and
  `parse_evidence`, `build_step_script` and `parse_step_result`).

The lab answers the same scripts, so it may read `protocol`, `framing` and `quoting`, never the
sending side. Which playbook needs what is decided in `remediate.audit.request`; running the
collector on a host is `remediate.audit.host`.
"""
