"""Path converters: whole numbers bounded like the query's (SPEC §7), and residents.

werkzeug's `int` converter takes digits of any length, so a 40-digit simulation id reached the
database and came back a 500. Ours takes ASCII digits only and, when the number is beyond what
a BIGINT holds, lets the route match anyway: a hook then answers a 422 naming the parameter,
which a converter alone cannot do (it never learns the parameter's name, and refusing to match
would answer 404).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.routing import BaseConverter

from ledger.api.fields import INTEGER_MAX
from ledger.api.problems import invalid_input

# Past this many digits a number is out of range whatever it is; not converting it keeps a
# path of thousands of digits from costing a quadratic int() (or Python's digit limit error).
_DIGITS_MAX = len(str(INTEGER_MAX))
OUT_OF_RANGE = INTEGER_MAX + 1


class BoundedIntegerConverter(BaseConverter):
    regex = r"[0-9]+"
    weight = 50  # as werkzeug's own number converters: a number rule wins over a string rule
    part_isolating = True

    def to_python(self, value: str) -> int:
        return OUT_OF_RANGE if len(value) > _DIGITS_MAX else int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


class ResidentConverter(BaseConverter):
    """A resident's path segment, anything but `lookup`: that is a route of its own (POST
    /residents/lookup), and GET on it must answer 405, not a 422 about a pseudonym "lookup".
    Other segments reach the view, which answers 422 for one that is not a pseudonym."""

    regex = r"(?!lookup$)[^/]+"
    part_isolating = True


def parameter_schema(converter: BoundedIntegerConverter) -> dict[str, Any]:
    """The OpenAPI schema of a path parameter that this converter reads."""
    return {"type": "integer", "minimum": 0, "maximum": INTEGER_MAX}


def install(app: Flask) -> None:
    """Replace `int` and add `resident` in the app's URL map; call before any blueprint is
    registered."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_map.converters["resident"] = ResidentConverter


def refuse_out_of_range_path_integers() -> None:
    """before_request hook, after access control: a path number past INTEGER_MAX is a 422."""
    errors = {name: f"must be at most {INTEGER_MAX}"
              for name, value in (request.view_args or {}).items()
              if isinstance(value, int) and value > INTEGER_MAX}
    if errors:
        raise invalid_input(errors, "a path parameter is out of range")
