"""What a lab host prints when a client runs something on it, computed from its model.

Layers, bottom up, each importing only those below it:
- `execution`: the `Execution` result and the registry of declared-script answers;
- `scripts`: reading a script's declaration and running the answer registered for it;
- `cmd_line`, then `commands`: cmd.exe lines, PowerShell and the plain commands clients send;
- `collect`, `step` (with `win32`): the answers to the project's declared scripts.
The answers are registered here, once, so that any import of the lab's answers finds them.
"""

from __future__ import annotations

from remediate.lab.answers import collect, step
from remediate.lab.answers.execution import register

register("collect", collect.answer_collect)
register("step", step.answer_step)
