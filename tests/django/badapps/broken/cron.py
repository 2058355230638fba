from lazycron_no_such_module import helper  # type: ignore[import-not-found]

import lazycron


@lazycron.job(every=60, name="broken.job")
def job() -> None:
    helper()
