"""Serializer fields that take only the JSON type the OpenAPI schema names for them.

DRF is lenient: a CharField takes 0 and stores "0", an IntegerField takes "5", a BooleanField takes "yes".
The schema says string, integer, boolean; a request it forbids must be refused, not reinterpreted.
"""

from __future__ import annotations

from django.db import models
from rest_framework import serializers


def strict(field_class, json_type: str, *python_types: type):
    """`field_class`, refusing any value whose JSON type is not `json_type` (true/false are not numbers)."""

    class Strict(field_class):
        def to_internal_value(self, data):
            if type(data) not in python_types:
                raise serializers.ValidationError(f"must be a JSON {json_type}")
            return super().to_internal_value(data)

    Strict.__name__ = Strict.__qualname__ = f"Strict{field_class.__name__}"
    return Strict


StrictCharField = strict(serializers.CharField, "string", str)
StrictIntegerField = strict(serializers.IntegerField, "integer", int)
StrictFloatField = strict(serializers.FloatField, "number", int, float)
StrictBooleanField = strict(serializers.BooleanField, "boolean", bool)
StrictPrimaryKeyRelatedField = strict(serializers.PrimaryKeyRelatedField, "integer (an id)", int)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields are the strict ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField, models.TextField: StrictCharField,
        models.IntegerField: StrictIntegerField, models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField, models.SmallIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField, models.BooleanField: StrictBooleanField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
