"""Applications installed each documented way, for ``lazycron --app`` (tests/test_cli.py).

Each reads its state directory from $CLIAPP_STATE (unset: no state_dir=, lazycron's
default) and declares one job, ``tick5``, that appends to $CLI_LOG.
"""

from __future__ import annotations

import os
from typing import Any

import lazycron


def state_options() -> dict[str, Any]:
    state = os.environ.get("CLIAPP_STATE")
    return {"state_dir": state} if state else {}


@lazycron.job(every="5s", name="tick5")
def tick5() -> None:
    with open(os.environ["CLI_LOG"], "a") as log:
        log.write("tick5\n")
