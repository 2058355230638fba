import lazycron


@lazycron.job("61 * * * *", name="badexpr.job")
def bad() -> None:
    pass
