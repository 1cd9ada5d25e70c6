"""The answers that hold many events or traits, as plain JSON documents.

``event_document`` and ``trait_document`` build them from the storage's
models; ``JSONRenderer``, the application's ``wsmejson`` renderer, writes
an event's raw document as the storage holds it; in XML they are rendered
as their WSME types (see base.py).
"""

import datetime
import json

from wsme import types as wtypes
import wsme.rest.xml
import wsmeext.pecan

from panko.api.controllers.v2 import base
from panko.storage import models

_TYPE_NAMES = models.Trait.TYPE_NAMES


def trait_document(trait):
    """A storage Trait in the JSON shape of ``base.Trait``."""
    value = trait.value
    if type(value) is not str:
        value = (value.isoformat() if isinstance(value, datetime.datetime)
                 else str(value))
    return {'name': trait.name, 'type': _TYPE_NAMES[trait.dtype],
            'value': value}


def event_document(event):
    """A storage Event read ``raw_as_json`` in the shape of ``base.Event``.

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
    encoding it again would give the same text, at a cost in CPU for
    every page.
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
        self.wsme_type = wtypes.registry.resolve_type(wsme_type)
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
    return base.Event(**dict(document, raw=json.loads(document['raw']),
                             traits=[base.Trait(**trait)
                                     for trait in document['traits']]))


EVENT = Documents(base.Event, _event_from_document, event_json)
EVENTS = Documents(
    [base.Event],
    lambda documents: [_event_from_document(document)
                       for document in documents],
    lambda documents: '[%s]' % ', '.join(map(event_json, documents)))
TRAITS = Documents([base.Trait], lambda documents: [
    base.Trait(**document) for document in documents])


def _documents_as_xml(datatype, key, value):
    return wsme.rest.xml.toxml(datatype.wsme_type, key,
                               datatype.from_document(value))


for _documents in (EVENT, EVENTS, TRAITS):
    wsme.rest.xml.toxml.when_object(_documents)(_documents_as_xml)
