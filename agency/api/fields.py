"""Marshmallow fields shared by the API schemas."""
from marshmallow import fields

from agency.clock import local


class LocalDateTime(fields.DateTime):
    """An aware datetime written in the hall's zone (ISO 8601 with its offset)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else local(value).isoformat()
