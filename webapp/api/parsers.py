"""The API's request body parser: DRF's JSON parser, with deep nesting answered as a 400 like any bad JSON.

DRF's parser turns ValueError into a 400 but json.load raises RecursionError for a body nested some
thousands of levels deep, which became a 500.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply") from None
