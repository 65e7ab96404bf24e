"""The bounds of input, declared once (STYLE.md): marshmallow fields shared by the API schemas, and the URL
converters of every route's ids.

A value out of these bounds is refused before it reaches a query: an id of a body or a query string, a
number, a date or a time is a 400 naming the field; a path id beyond its column's range cannot name a row,
so its route does not match (404).  Without them PostgreSQL refused an id of 2^31 (``integer out of range``),
SQLite one of 2^63, and a date before the working calendar or a time at the edge of the year 1 or 9999
overflowed: all 500s.
"""
from datetime import date
from decimal import Decimal

from marshmallow import ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

from agency.calendar.workdays import FIRST_DAY, LAST_DAY, SUPPORTED_RANGE
from agency.clock import local

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER: the ids of every table but tasks
BIGINT_MAX = 2**63 - 1  # PostgreSQL BIGINT: tasks.id and the columns referring to it

# Dates and times the system deals in: a sane range, wide enough for any record, narrow enough that
# moving a value between zones never leaves datetime's range.  Working-day arithmetic needs the
# calendar's narrower range (WorkingDay).
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(2999, 12, 31)
MONEY_MAX_WAN = Decimal("9999999999.99")  # 万元; a Numeric(14, 2) column
MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


class Id(fields.Integer):
    """The id of a row of an INTEGER-keyed table, in a body or a query string: 1 to 2^31-1."""

    MAX = INT_MAX

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.insert(0, validate.Range(min=1, max=self.MAX, error=f"an id is 1 to {self.MAX}"))


class TaskId(Id):
    """The id of a task (a BIGINT column): 1 to 2^63-1."""

    MAX = BIGINT_MAX


class BoundedDate(fields.Date):
    """A date from DATE_MIN to DATE_MAX (or the bounds given)."""

    def __init__(self, *, first: date = DATE_MIN, last: date = DATE_MAX, range_error: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.first, self.last = first, last
        self.range_error = range_error or f"a date from {first.isoformat()} to {last.isoformat()}"
        self.metadata = {"description": f"a date from {first} to {last}", **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not self.first <= day <= self.last:
            raise ValidationError(self.range_error)
        return day


class WorkingDay(BoundedDate):
    """A date the working calendar answers for (R1): its supported range, 2004-01-01 to 2099-12-31."""

    def __init__(self, **kwargs):
        super().__init__(first=FIRST_DAY, last=LAST_DAY, range_error=f"the working calendar covers {SUPPORTED_RANGE}",
                         **kwargs)


class BoundedDateTime(fields.AwareDateTime):
    """A date and time with its UTC offset, its date (in UTC) from DATE_MIN to DATE_MAX."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata = {"description": f"with its UTC offset; from {DATE_MIN} to {DATE_MAX}", **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if not DATE_MIN <= moment.date() <= DATE_MAX:  # so that moving it to UTC (or the hall's zone) cannot overflow
            raise ValidationError(f"a time from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}")
        return moment


class Money(fields.Decimal):
    """An amount of 万元: 0 to MONEY_MAX_WAN with at most two decimals, written as a string ("32000.00") so no
    digit is lost to a float; a JSON number is read too."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"special": "a finite number of 万元 is required",
                                             "invalid": "a number of 万元"})
        super().__init__(places=2, as_string=True, **kwargs)
        self.validators.insert(0, validate.Range(min=0, max=MONEY_MAX_WAN, error="0 to {max} (万元)"))
        self.metadata = {"pattern": MONEY_PATTERN, "example": "32000.00",
                         "description": f"万元, a decimal written as a string, 0 to {MONEY_MAX_WAN}", **self.metadata}


class LocalDateTime(fields.DateTime):
    """An aware datetime written in the hall's zone (ISO 8601 with its offset)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else local(value).isoformat()


# -- path ids ------------------------------------------------------------------------------------

def numbers_up_to(n: int) -> str:
    """A regular expression of the decimal numbers 1 to ``n``, without leading zeros."""
    digits = str(n)
    shorter = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for i, digit in enumerate(digits):
        low = 1 if i == 0 else 0
        if int(digit) > low:  # n's first i digits, then a smaller digit, then any
            same_length.append(rf"{digits[:i]}[{low}-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}")
    return "(?:" + "|".join([*shorter, *same_length, digits]) + ")"


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route of the application: a row id, 1 to 2^31-1.

    The bound is in the regular expression, not only in ``to_python``: Werkzeug matches a path before it
    converts its parts, so a path that only ``to_python`` refused would still answer 405 to a method of
    the same route, as if the id existed.
    """

    MAX = INT_MAX

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, min=1, max=self.MAX, **kwargs)
        self.regex = numbers_up_to(self.MAX)


class TaskIdConverter(IdConverter):
    """``<bigint:task_id>``: a task's id, 1 to 2^63-1."""

    MAX = BIGINT_MAX


def id_parameter(converter: IdConverter) -> dict:
    """The OpenAPI schema of a path id."""
    return {"type": "integer", "format": "int64" if converter.max > INT_MAX else "int32",
            "minimum": converter.min, "maximum": converter.max}


def init_app(app) -> None:
    """Before any route is added: ``<int:>`` is a bounded id, ``<bigint:>`` a task id."""
    app.url_map.converters.update({"int": IdConverter, "bigint": TaskIdConverter})
