"""Fast jobs, so the demo shows something within seconds."""

from demo.runlog import logged

import lazycron


# A sixth field is SECONDS, last, and opt-in (seconds=True): every 2 seconds on the grid.
@lazycron.job("* * * * * */2", seconds=True, name="pulse.every_2s")
@logged("pulse.every_2s")
def every_2s() -> None:
    pass


@lazycron.job(every=3, name="pulse.every_3s")
@logged("pulse.every_3s")
def every_3s() -> None:
    pass
