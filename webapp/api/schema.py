"""The OpenAPI schema made exact: every error answer an operation can give, with its body, and typed filters.

drf-spectacular documents the success answer only. Clients generated from the schema, and the
schema-driven test (tests/webapp/test_api_schema.py), need the rest: 401 without a valid token, 403 for a
role that may not, 404 for an id that names nothing, 400 for a bad body, filter or page bound, 415 for a
body that is not JSON. The tus endpoints and the job-starting ones list their own answers in views.py.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from webapp.core.params import MAX_ID

ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
VALIDATION_ERROR = {
    "type": "object",
    "description": "The field names with their messages ({\"name\": [\"...\"]}), or {\"detail\": \"...\"}.",
    "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
}


class ErrorSerializer(serializers.Serializer):
    """DRF's error body: what went wrong, in words."""

    detail = serializers.CharField()


class UploadErrorSerializer(serializers.Serializer):
    """A tus endpoint's error body; `final` says that retrying cannot help."""

    error = serializers.CharField()
    final = serializers.BooleanField()


def id_filter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, ID_SCHEMA, description=f"Only those of this {what} (its id).")


def choice_filter(name: str, choices) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "enum": list(choices)}, description=f"Only those with this {name}.")


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, with the error answers every operation shares added to its own."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, body in self.error_bodies().items():
            responses.setdefault(code, self._get_response_for_code(body, code, direction=direction))
        return responses

    def error_bodies(self) -> dict:
        errors = {"401": ErrorSerializer, "403": ErrorSerializer}
        if "{" in self.path:
            errors["404"] = ErrorSerializer
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            errors["400"] = VALIDATION_ERROR
            errors["415"] = ErrorSerializer
        if self.method == "GET" and (self._get_paginator() or self.get_override_parameters()):
            errors["400"] = ErrorSerializer  # a filter or a page bound that cannot be read
        return errors
