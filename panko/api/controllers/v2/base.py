"""The WSME types of the v2 API: what its requests and answers hold.

The answers of many events or traits are built as plain JSON documents
instead (see documents.py); the errors are panko.api.errors', and the
query model that turns the parameters into storage filters is
panko.api.query.
"""

import json
from xml.etree import ElementTree

from wsme import types as wtypes
import wsme.rest.xml


class JsonType(wtypes.UserType):
    """Any JSON document, passed through unchanged (an event's raw)."""

    basetype = wtypes.text
    name = 'json'

    def validate(self, value):
        json.dumps(value)
        return value

    def frombasetype(self, value):
        return self.validate(value)


RAW = JsonType()


@wsme.rest.xml.toxml.when_object(RAW)
def _raw_as_xml(datatype, key, value):
    """In XML, an event's raw document is its JSON text."""
    element = ElementTree.Element(key)
    element.text = json.dumps(value)
    return element


class FilterValue(wtypes.UserType):
    """A filter's value: text, or in a JSON body a number or boolean too."""

    basetype = wtypes.text
    name = 'filtervalue'

    def validate(self, value):
        if isinstance(value, bool):
            return 'true' if value else 'false'
        if isinstance(value, (int, float, str)):
            return str(value)
        raise ValueError('a filter value is a string, a number or a '
                         'boolean')

    def frombasetype(self, value):
        return self.validate(value) if value is not None else None


class Query(wtypes.Base):
    """One filter of ``q``: ``field op value``, the value typed by ``type``.

    ``type`` may be left out (or empty) for a string trait and for the
    fields that are not traits.
    """

    field = wtypes.text
    op = wtypes.wsattr(wtypes.text, default='eq')
    value = FilterValue()
    type = wtypes.wsattr(wtypes.text, default='')


class Trait(wtypes.Base):
    """A trait of an event; the value is a string whatever its type."""

    name = wtypes.text
    type = wtypes.text
    value = wtypes.text


class TraitDescription(wtypes.Base):
    """The name and type of a trait that events of a type carry."""

    name = wtypes.text
    type = wtypes.text


class Event(wtypes.Base):
    """An event; ``generated`` is ISO 8601 in UTC, without an offset."""

    message_id = wtypes.text
    event_type = wtypes.text
    generated = wtypes.text
    traits = [Trait]
    raw = RAW


class Rejection(wtypes.Base):
    """An event that was not stored, and why."""

    message_id = wtypes.text
    reason = wtypes.text


class RecordSummary(wtypes.Base):
    """What ``POST /v2/events`` did with the events it was given."""

    stored = int
    duplicates = int
    rejected = int
    rejections = [Rejection]

    @classmethod
    def from_result(cls, result):
        """The summary of a storage RecordResult."""
        return cls(stored=len(result.stored),
                   duplicates=len(result.duplicates),
                   rejected=len(result.rejected),
                   rejections=[Rejection(message_id=message_id,
                                         reason=reason)
                               for message_id, reason in result.rejected])
