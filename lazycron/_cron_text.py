"""From the cron expression a user wrote to the one croniter is given.

Everything here happens once, at declaration, and fails with a :class:`JobDefinitionError`
that names the field at fault:

* six fields only with ``seconds=True`` (lazycron's sixth field is seconds, *last*;
  Quartz and Spring put seconds *first*, and ``0 */5 * * * *`` would then run every
  second);
* ``R`` (random) is refused: croniter draws it again at every evaluation;
* ``H`` (Jenkins' hash) becomes a concrete value from a SHA-256 of the job name, so
  every process on every host computes the same minute;
* ``N-N`` becomes ``N``: croniter 7 reads an equal range as ``*``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from croniter import croniter

from .errors import JobDefinitionError

__all__ = ["CronText", "read_cron_text"]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    # the values ``H`` draws from; day-of-month stops at 28 so that it exists every month
    hash_low: int
    hash_high: int


_MINUTE = _Field("minute", 0, 59, 0, 59)
_HOUR = _Field("hour", 0, 23, 0, 23)
_DAY = _Field("day of month", 1, 31, 1, 28)
_MONTH = _Field("month", 1, 12, 1, 12)
_WEEKDAY = _Field("day of week", 0, 7, 0, 6)
_SECOND = _Field("second", 0, 59, 0, 59)
_FIVE_FIELDS = (_MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)

# croniter's shorthand expressions, spelled out so that they go through the same rules.
ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_RANDOM = re.compile(r"^R(\(|/|$)", re.IGNORECASE)
_HASH = re.compile(r"^H(?:\((\d+)-(\d+)\))?(?:/(\d+))?$", re.IGNORECASE)
_EQUAL_RANGE = re.compile(r"^(\w+)-(\w+)(?:/\d+)?$")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class CronText:
    """What the user wrote, and the equivalent expression croniter evaluates.

    ``wildcard`` is cronie's distinction for daylight saving time: a job whose minute or
    hour field (or, with seconds, its second field) starts with ``*`` is a wildcard job;
    any other is a fixed-time job. ``day_or`` is cron's rule for day-of-month with
    day-of-week: a day matching either field runs, unless one of them starts with ``*``,
    when it must match both.
    """

    written: str
    resolved: str
    wildcard: bool
    day_or: bool

    def describe(self) -> str:
        if self.written.startswith("@") or self.written == self.resolved:
            return self.written
        return f"{self.written} (= {self.resolved})"


def read_cron_text(expression: object, *, job_name: str | None, seconds: bool) -> CronText:
    if not isinstance(expression, str):
        raise JobDefinitionError(
            f"a cron expression must be a string, not {type(expression).__name__}"
        )
    written = " ".join(expression.split())
    if not written:
        raise JobDefinitionError("the cron expression is empty; write e.g. '*/5 * * * *'")
    alias = ALIASES.get(written.lower())
    if alias is not None:
        if seconds:
            raise JobDefinitionError(f"{written!r} has no seconds field; drop seconds=True")
        written, fields = written.lower(), alias.split(" ")
    else:
        fields = written.split(" ")
        _check_field_count(written, fields, seconds)
    layout = (*_FIVE_FIELDS, _SECOND) if seconds else _FIVE_FIELDS
    resolved_fields = [
        _resolve_field(position, field, text, job_name)
        for position, (field, text) in enumerate(zip(layout, fields, strict=True), start=1)
    ]
    resolved = " ".join(resolved_fields)
    _check_with_croniter(written, resolved, layout, resolved_fields)
    starts_with_star = [text.startswith(("*", "?")) for text in resolved_fields]
    return CronText(
        written=written,
        resolved=resolved,
        wildcard=starts_with_star[0] or starts_with_star[1] or (seconds and starts_with_star[5]),
        day_or=not (starts_with_star[2] or starts_with_star[4]),
    )


def _check_field_count(written: str, fields: list[str], seconds: bool) -> None:
    count = len(fields)
    if count == 6 and not seconds:
        seconds_last = " ".join([*fields[1:], fields[0]])
        five = " ".join(fields[1:])
        every_second = " (every second of the minutes it matches)" if fields[5] == "*" else ""
        raise JobDefinitionError(
            f"cron expression {written!r} has 6 fields, and seconds are opt-in. Quartz and "
            "Spring put seconds FIRST; lazycron (like croniter) puts them LAST, so here it "
            f"would mean something else{every_second}. If you meant Quartz's meaning, use "
            f"five fields: {five!r}; for seconds, write them last and pass seconds=True: "
            f"@lazycron.job({seconds_last!r}, seconds=True)"
        )
    if count == 5 and seconds:
        raise JobDefinitionError(
            f"cron expression {written!r} has 5 fields but seconds=True; add the seconds "
            "as a sixth, last field (e.g. '* * * * * */10'), or drop seconds=True"
        )
    if count not in (5, 6):
        raise JobDefinitionError(
            f"cron expression {written!r} has {count} fields; use 5 (minute hour day month "
            "weekday), or 6 with seconds=True (the same plus seconds, last)"
        )


def _resolve_field(position: int, field: _Field, text: str, job_name: str | None) -> str:
    return ",".join(
        _resolve_item(position, field, text, item, job_name) for item in text.split(",")
    )


def _resolve_item(position: int, field: _Field, text: str, item: str, job_name: str | None) -> str:
    if _RANDOM.match(item):
        raise JobDefinitionError(
            f"field {position} ({field.name}) {text!r} uses R (random), which would be "
            "drawn again at every evaluation and run at random times; use a fixed value, "
            "or H for a value hashed from the job name"
        )
    hashed = _HASH.match(item)
    if hashed:
        return _hash_item(position, field, text, hashed, job_name)
    equal = _EQUAL_RANGE.match(item)
    # croniter reads "2-2" as "*": give it the single value cron means
    if equal and _same_value(equal.group(1), equal.group(2)):
        return equal.group(1)
    return item


def _same_value(first: str, second: str) -> bool:
    if first.isdigit() and second.isdigit():
        return int(first) == int(second)
    return first.lower() == second.lower()


def _hash_item(
    position: int, field: _Field, text: str, hashed: re.Match[str], job_name: str | None
) -> str:
    if not job_name:
        raise JobDefinitionError(
            f"field {position} ({field.name}) {text!r} uses H, which is hashed from the "
            "job's name; pass the job's name=..."
        )
    low, high = field.hash_low, field.hash_high
    if hashed.group(1) is not None:
        low, high = int(hashed.group(1)), int(hashed.group(2))
        if not field.low <= low <= high <= field.high:
            raise JobDefinitionError(
                f"field {position} ({field.name}) {text!r}: the range of H({low}-{high}) "
                f"must lie within {field.low}-{field.high}, low end first"
            )
    span = high - low + 1
    digest = hashlib.sha256(f"{job_name}\0{field.name}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big")
    if hashed.group(3) is None:
        return str(low + draw % span)
    step = int(hashed.group(3))
    if step < 1:
        raise JobDefinitionError(
            f"field {position} ({field.name}) {text!r}: the step after H/ must be 1 or more"
        )
    start = low + draw % min(step, span)
    return str(start) if start == high else f"{start}-{high}/{step}"


def _check_with_croniter(
    written: str, resolved: str, layout: tuple[_Field, ...], fields: list[str]
) -> None:
    if _croniter_accepts(resolved):
        return
    # Name the field at fault: try each one alone, the others left as "*".
    for index, (field, text) in enumerate(zip(layout, fields, strict=True)):
        alone = ["*"] * len(fields)
        alone[index] = text
        if not _croniter_accepts(" ".join(alone)):
            raise JobDefinitionError(
                f"cron expression {written!r} is not valid: field {index + 1} ({field.name}) "
                f"{_what_is_wrong(field, text)} (see `man 5 crontab`)"
            )
    raise JobDefinitionError(
        f"cron expression {written!r} is not valid (see `man 5 crontab`; fields are "
        "minute hour day month weekday [second])"
    )


def _croniter_accepts(text: str) -> bool:
    try:
        return bool(croniter.is_valid(text))
    except Exception:  # croniter may raise instead of answering on odd input
        return False


def _what_is_wrong(field: _Field, text: str) -> str:
    for item in text.split(","):
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) < 1):
            return f"{text!r} has step {step!r}; a step is a whole number, 1 or more"
        for number in _NUMBER.findall(base):
            if not field.low <= int(number) <= field.high:
                return f"{text!r} is out of range {field.low}-{field.high}"
    return f"{text!r} is not a valid {field.name}"
