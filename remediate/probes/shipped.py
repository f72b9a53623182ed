"""The shipped scripts as they are sent: each with the shared part spliced in.

`collect` and `step` share their output records and argument reader (`common.ps1`,
`common.js`); a line `# #include common.ps1` or `// #include common.js` in a script is
replaced by that file. One level only: a shared file includes nothing.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_INCLUDE = re.compile(r"^[ \t]*(?:#|//) #include (?P<name>[a-z_]+\.(?:ps1|js))[ \t]*$", re.M)


def _read(name: str) -> str:
    return resources.files("remediate.probes").joinpath(name).read_text(encoding="utf-8")


@cache
def shipped_script(name: str) -> str:
    """The text of `name` (e.g. `collect.ps1`) with its includes spliced in."""

    def splice(match: re.Match[str]) -> str:
        included = _read(match.group("name"))
        if _INCLUDE.search(included):
            raise ValueError(f"{match.group('name')}: a shared file includes nothing")
        return included.rstrip("\n")

    return _INCLUDE.sub(splice, _read(name))
