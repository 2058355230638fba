"""Jobs for the command-line tests."""

import os

import lazycron


@lazycron.job(every="1h", name="greet", expected_duration="5m")
def greet() -> None:
    with open(os.environ["CLI_LOG"], "a") as log:
        log.write("greet\n")


@lazycron.job("0 3 * * *", name="nightly", timezone="Europe/Berlin")
def nightly() -> None:
    raise RuntimeError("the report server is down")
