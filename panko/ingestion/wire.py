"""Ceilometer's serialized events (the wire contract, section 3).

An event on the wire is a JSON object with ``message_id``, ``event_type``,
``generated``, ``traits`` as ``[name, dtype, value]`` triples, ``raw`` and
``message_signature``. This module checks the shape and the JSON type of
each part and builds a :class:`panko.storage.models.Event`; converting and
range-checking the values is left to ``Event.validated()``, which the
storage driver applies to every event it records. ``parse_body`` checks
the body of ``POST /v2/events``, a list of such events, the same way.
"""

import datetime

from oslo_log import log

from panko import safe_text
from panko.ingestion import signature
from panko.storage import models

LOG = log.getLogger(__name__)

Trait = models.Trait

#: The JSON types a trait value may have on the wire, by dtype. Python's
#: bool is an int, so booleans are refused separately.
WIRE_VALUE_TYPES = {
    Trait.NONE_TYPE: (str, int, float),
    Trait.TEXT_TYPE: (str,),
    Trait.INT_TYPE: (int,),
    Trait.FLOAT_TYPE: (int, float),
    Trait.DATETIME_TYPE: (str,),
}

JSON_TYPE_NAMES = {
    dict: 'an object', list: 'an array', str: 'a string', int: 'an integer',
    float: 'a number', bool: 'a boolean', type(None): 'null',
}


class SignatureMismatch(models.InvalidEvent):
    """The event's message_signature does not match our secret."""


class InvalidBody(ValueError):
    """A request body that is not a list of events; the text says why."""


def json_type(value):
    return JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _required_string(event, field):
    value = event.get(field)
    if not isinstance(value, str) or not value:
        raise models.InvalidEvent('%s must be a non-empty string, got %s'
                                  % (field, json_type(value)))
    return value


def parse_trait(position, triple):
    """A Trait from ``[name, dtype, value]``, or InvalidEvent saying why."""
    where = 'traits[%d]' % position
    if not isinstance(triple, list) or len(triple) != 3:
        raise models.InvalidEvent('%s must be a [name, dtype, value] array'
                                  % where)
    name, dtype, value = triple
    if not isinstance(name, str) or not name:
        raise models.InvalidEvent('%s: the name must be a non-empty string'
                                  % where)
    where = '%s (%s)' % (where, name)
    if (isinstance(dtype, bool) or not isinstance(dtype, int)
            or dtype not in WIRE_VALUE_TYPES):
        raise models.InvalidEvent('%s: dtype %r is not one of %s'
                                  % (where, dtype, sorted(WIRE_VALUE_TYPES)))
    if value is not None and (isinstance(value, bool) or not isinstance(
            value, WIRE_VALUE_TYPES[dtype])):
        raise models.InvalidEvent(
            '%s: dtype %d (%s) cannot hold %s (%r)'
            % (where, dtype, Trait.TYPE_NAMES[dtype], json_type(value),
               value))
    return Trait(name, dtype, value)


def parse_event(event):
    """An Event from a serialized event dict, or InvalidEvent saying why."""
    if not isinstance(event, dict):
        raise models.InvalidEvent('an event must be a JSON object, got %s'
                                  % json_type(event))
    message_id = _required_string(event, 'message_id')
    event_type = _required_string(event, 'event_type')
    generated = _required_string(event, 'generated')
    traits = event.get('traits', [])
    if not isinstance(traits, list):
        raise models.InvalidEvent('traits must be an array, got %s'
                                  % json_type(traits))
    raw = event.get('raw') or {}
    if not isinstance(raw, dict):
        raise models.InvalidEvent('raw must be an object, got %s'
                                  % json_type(raw))
    return models.Event(
        message_id=message_id, event_type=event_type, generated=generated,
        traits=[parse_trait(i, triple) for i, triple in enumerate(traits)],
        raw=raw)


def parse_events(events, secret='', accept_unsigned=False):
    """Split serialized events into Events and DeadLetters saying why.

    With a ``secret``, an event whose signature does not match is rejected,
    and so is an unsigned one unless ``accept_unsigned``; without a
    secret, every event is accepted unsigned. The dead letters carry the
    event as it came and no door: the recorder sets it.
    """
    parsed, rejected = [], []
    for event in events:
        try:
            valid = parse_event(event)
            if not _signature_accepted(event, secret, accept_unsigned):
                raise SignatureMismatch(
                    'message_signature does not match (forged, altered or '
                    'signed with another telemetry_secret)')
        except models.InvalidEvent as e:
            LOG.warning('Rejecting event %s: %s',
                        safe_text.brief(_message_id_of(event)),
                        safe_text.reason(e))
            rejected.append(models.DeadLetter(
                door=None, kind='event', reason=safe_text.reason(e),
                payload=event, message_id=_message_id_of(event)))
        else:
            parsed.append(valid)
    return parsed, rejected


def parse_body(body, secret=''):
    """Events and DeadLetters from the body of ``POST /v2/events``.

    ``body`` is the decoded JSON Ceilometer's ``http://`` publisher posts:
    a list of serialized events (the same dicts as in the dispatcher's
    messages), or, with ``batch=False`` in its URL, one event object.
    Each event that is malformed, or whose signature does not match
    ``secret`` when one is given, becomes a DeadLetter saying why. Events
    without a signature are accepted: the publisher signs none, and the
    API has authenticated and authorized the caller already. Raises
    InvalidBody, before any event is parsed, when the body is neither.
    """
    events = [body] if isinstance(body, dict) else body
    if not isinstance(events, list):
        raise InvalidBody('the body must be a JSON array of events or one '
                          'event object, got %s' % json_type(body))
    for position, event in enumerate(events):
        if not isinstance(event, dict):
            raise InvalidBody('element %d of the body must be an event '
                              'object, got %s' % (position, json_type(event)))
    return parse_events(events, secret, accept_unsigned=True)


def serialize_event(event):
    """An Event as Ceilometer serializes it on the wire, unsigned.

    The inverse of parse_event, for events that came in another way (the
    panko:// publisher, raw notifications) and must be set aside.
    """
    def json_value(value):
        return value.isoformat() if isinstance(
            value, datetime.datetime) else value

    return {'message_id': event.message_id,
            'event_type': event.event_type,
            'generated': json_value(event.generated),
            'traits': [[trait.name, trait.dtype, json_value(trait.value)]
                       for trait in event.traits],
            'raw': event.raw}


def _signature_accepted(event, secret, accept_unsigned):
    if accept_unsigned and not event.get(signature.SIGNATURE_FIELD):
        return True
    return signature.verify_signature(event, secret)


def _message_id_of(event):
    if isinstance(event, dict) and isinstance(event.get('message_id'), str):
        return event['message_id']
    return None
