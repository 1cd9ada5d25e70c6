"""What the v2 controllers share: WSME types and answer documents.

The errors they raise are panko.api.errors', and the query model that
turns their parameters into storage filters is panko.api.query.
"""

import datetime
import json
from xml.etree import ElementTree

import wsme
from wsme import types as wtypes
import wsme.rest.xml
import wsmeext.pecan

from panko.storage import models


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


_TYPE_NAMES = models.Trait.TYPE_NAMES


def trait_document(trait):
    """A storage Trait in the JSON shape of ``Trait``."""
    value = trait.value
    if type(value) is not str:
        value = (value.isoformat() if isinstance(value, datetime.datetime)
                 else str(value))
    return {'name': trait.name, 'type': _TYPE_NAMES[trait.dtype],
            'value': value}


def event_document(event):
    """A storage Event read ``raw_as_json`` in the JSON shape of ``Event``.

    Its ``raw`` is the JSON text of the raw document: ``event_json``
    writes it as it is. The storage gives the traits sorted by name.
    """
    return {'message_id': event.message_id,
            'event_type': event.event_type,
            'generated': event.generated.isoformat(),
            'traits': list(map(trait_document, event.traits)),
            'raw': event.raw}


def event_json(document):
    """The JSON text of an event document, as ``json.dumps`` would write it
    were its raw document decoded.

    ``raw`` is the last member and its text is what ``json.dumps`` wrote
    when the event was recorded, so it is appended as it is: decoding and
    encoding it again would give the same text, for 1.3 ms of CPU per
    page of 100 events.
    """
    members = json.dumps({key: document[key] for key in _EVENT_MEMBERS})
    return '%s, "raw": %s}' % (members[:-1], document['raw'])


_EVENT_MEMBERS = ('message_id', 'event_type', 'generated', 'traits')


class Documents(wtypes.UserType):
    """Answers built in their JSON shape, which JSONRenderer encodes.

    Building and validating a WSME object for every trait of every event
    costs several times the storage query of a page of events, so the
    controllers that answer many traits build plain JSON data instead,
    and ``to_json`` encodes it. In XML the documents are rendered as
    WSME renders ``wsme_type``.
    """

    basetype = wtypes.text
    name = 'documents'

    def __init__(self, wsme_type, from_document, to_json=json.dumps):
        self.wsme_type = wsme.types.registry.resolve_type(wsme_type)
        self.from_document = from_document
        self.to_json = to_json

    def validate(self, value):
        return value


class JSONRenderer:
    """WSME's JSON renderer for Pecan, but Documents encode themselves.

    WSME encodes every answer with one ``json.dumps``; the documents of
    events hold their raw document already encoded (see event_json).
    """

    def __init__(self, path, extra_vars):
        pass

    @staticmethod
    def render(template_path, namespace):
        datatype = namespace.get('datatype')
        if isinstance(datatype, Documents):
            return datatype.to_json(namespace['result'])
        return wsmeext.pecan.JSonRenderer.render(template_path, namespace)


def _event_from_document(document):
    return Event(**dict(document, raw=json.loads(document['raw']),
                        traits=[Trait(**trait)
                                for trait in document['traits']]))


EVENT = Documents(Event, _event_from_document, event_json)
EVENTS = Documents(
    [Event],
    lambda documents: [_event_from_document(document)
                       for document in documents],
    lambda documents: '[%s]' % ', '.join(map(event_json, documents)))
TRAITS = Documents([Trait], lambda documents: [
    Trait(**document) for document in documents])


def _documents_as_xml(datatype, key, value):
    return wsme.rest.xml.toxml(datatype.wsme_type, key,
                               datatype.from_document(value))


for _documents in (EVENT, EVENTS, TRAITS):
    wsme.rest.xml.toxml.when_object(_documents)(_documents_as_xml)
