import lazycron


@lazycron.job(every=60, name="report")
def report() -> None:
    pass
