"""A typed face of flask-smorest's Blueprint, so that decorated views keep their signatures.

flask-smorest ships no type information: without this, every decorated view would be untyped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest

View = TypeVar("View", bound=Callable[..., Any])


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]  # the base class is untyped
    def route(self, rule: str, **options: Any) -> Callable[[View], View]:
        decorator: Callable[[View], View] = super().route(rule, **options)
        return decorator

    def arguments(self, schema: Any, **options: Any) -> Callable[[View], View]:
        decorator: Callable[[View], View] = super().arguments(schema, **options)
        return decorator

    def response(self, status_code: int, schema: Any = None,
                 **options: Any) -> Callable[[View], View]:
        decorator: Callable[[View], View] = super().response(status_code, schema, **options)
        return decorator

    def alt_response(self, status_code: int, response: Any = None,
                     **options: Any) -> Callable[[View], View]:
        decorator: Callable[[View], View] = super().alt_response(status_code, response,
                                                                 **options)
        return decorator

    @staticmethod
    def doc(**documentation: Any) -> Callable[[View], View]:
        decorator: Callable[[View], View] = flask_smorest.Blueprint.doc(**documentation)
        return decorator
