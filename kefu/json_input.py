"""JSON from outside Kefu (integrations, webhooks, sockets).

The standard parser recurses once per level of nesting and gives up with a RecursionError,
which nothing expects from a parser: a body of a few hundred kilobytes of `[[[[` would be a
server error. Here it is bad JSON like any other, refused with a clear message.
"""

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

TOO_DEEP = "JSON nested too deeply"


def json_loads(data: str | bytes) -> Any:
    """`json.loads`, raising ValueError (as for any malformed JSON) when nesting is too deep."""
    try:
        return json.loads(data)
    except RecursionError as error:
        raise ValueError(TOO_DEEP) from error


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser, answering too deep a nesting with 400 instead of a server error."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(f"JSON parse error - {TOO_DEEP}") from error
