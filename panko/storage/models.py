"""The event model shared by every storage driver, the API and ingestion."""

import dataclasses
import datetime
import json
import math
import re

from oslo_utils import timeutils

from panko import safe_text

#: Longest text a string trait keeps; longer values are truncated.
MAX_TEXT_LENGTH = 255
#: PostgreSQL's text types cannot hold it.
NUL = '\x00'
#: Longest event type and trait name accepted.
MAX_NAME_LENGTH = 255
#: Longest message_id accepted (a UUID is 36 characters).
MAX_MESSAGE_ID_LENGTH = 50
#: Earliest time stored: MySQL's DATETIME starts there, and the other
#: engines refuse what it refuses, so that an event is stored by every
#: engine or by none. The latest is datetime.max, which is MySQL's too.
MIN_DATETIME = datetime.datetime(1000, 1, 1)
#: Half of a UTF-16 surrogate pair, alone in a str (Python keeps them,
#: from "\ud800" in JSON for one): no engine can encode it as UTF-8.
SURROGATE = re.compile('[\ud800-\udfff]')
#: What a lone surrogate in a string trait value becomes.
REPLACEMENT_CHARACTER = '\ufffd'
#: The traits naming an event's owner, which the drivers keep beside the
#: event too (Event.owner), for the access restriction.
OWNER_TRAITS = ('project_id', 'user_id')
#: json.dumps' encoder, but refusing NaN and infinities; made once, as
#: json.dumps makes one for each call given an option.
_RAW_ENCODER = json.JSONEncoder(allow_nan=False)


class InvalidEvent(ValueError):
    """An event that cannot be stored as given; the text says why."""


def has_surrogate(text):
    """Whether a str holds a lone surrogate.

    Free for ASCII text, whose flag CPython keeps, and cheap for most
    other text: a printable string holds none (surrogates are not
    printable), and telling so costs less than searching for one.
    """
    return not (text.isascii() or text.isprintable()
                or SURROGATE.search(text) is None)


@dataclasses.dataclass(frozen=True)
class EventLimits:
    """The largest event accepted, 0 meaning no limit.

    Set by the options ``[storage] max_event_raw_size`` and
    ``max_event_traits``, which the reasons for rejecting an event name.
    """

    raw_size: int = 0
    traits: int = 0


@dataclasses.dataclass
class Trait:
    """A typed name/value pair attached to an event.

    The numeric types are the ones Ceilometer puts on the wire.
    """

    NONE_TYPE = 0
    TEXT_TYPE = 1
    INT_TYPE = 2
    FLOAT_TYPE = 3
    DATETIME_TYPE = 4

    TYPE_NAMES = {
        NONE_TYPE: 'none',
        TEXT_TYPE: 'string',
        INT_TYPE: 'integer',
        FLOAT_TYPE: 'float',
        DATETIME_TYPE: 'datetime',
    }

    name: str
    dtype: int
    value: object

    @classmethod
    def type_from_name(cls, type_name):
        for dtype, name in cls.TYPE_NAMES.items():
            if name == type_name:
                return dtype
        raise KeyError(type_name)

    @classmethod
    def convert_value(cls, dtype, value):
        """Return ``value`` as a Python value of ``dtype``.

        Raises ValueError (or TypeError) when the value does not fit: a
        value is never silently coerced into another type, so ``"abc"`` is
        not an integer and ``4.5`` is not an integer either.
        """
        if dtype == cls.INT_TYPE:
            if isinstance(value, bool):
                raise ValueError('a boolean is not an integer')
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError('%r is not an integer' % value)
                return int(value)
            return int(value)
        if dtype == cls.FLOAT_TYPE:
            if isinstance(value, bool):
                raise ValueError('a boolean is not a float')
            value = float(value)
            if not math.isfinite(value):
                # Neither JSON nor MySQL has them: refused everywhere alike.
                raise ValueError('%r is not a finite number' % value)
            return value
        if dtype == cls.DATETIME_TYPE:
            return normalize_datetime(value)
        if dtype in (cls.TEXT_TYPE, cls.NONE_TYPE):
            if isinstance(value, (dict, list)):
                raise ValueError('a %s is not a string' % type(value).__name__)
            return str(value)
        raise ValueError('unknown trait type %r' % dtype)


def normalize_datetime(value):
    """Turn an ISO 8601 string or a datetime into a naive UTC datetime.

    Raises ValueError for anything else, including a time that exists in
    its own zone but not in UTC (year 9999 behind UTC, year 1 ahead).
    """
    if isinstance(value, str):
        value = parse_isotime(value)
    if not isinstance(value, datetime.datetime):
        raise ValueError('%r is not a date and time' % (value,))
    try:
        return timeutils.normalize_time(value)
    except OverflowError:
        raise ValueError('%s is out of range once converted to UTC'
                         % value.isoformat())


def storable_datetime(value):
    """``value`` as a naive UTC datetime, in the range every engine stores.

    Raises ValueError otherwise.
    """
    value = normalize_datetime(value)
    if value < MIN_DATETIME:
        raise ValueError('%s is before %s, the earliest time stored'
                         % (value.isoformat(), MIN_DATETIME.isoformat()))
    return value


def parse_isotime(text):
    """ISO 8601 text as a datetime, naive meaning UTC.

    Python's own parser reads the forms events carry (what isoformat()
    writes, with or without an offset) much faster than iso8601,
    which reads the rarer forms it refuses.
    """
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return timeutils.parse_isotime(text)


@dataclasses.dataclass
class Event:
    message_id: str
    event_type: str
    generated: datetime.datetime
    traits: list
    raw: dict = dataclasses.field(default_factory=dict)
    #: The JSON text of ``raw`` that drivers store; set by validated().
    raw_json: str = dataclasses.field(default=None, compare=False,
                                      repr=False)

    def validated(self, limits=None):
        """Return a copy fit for storage, or raise InvalidEvent.

        InvalidEvent is all it raises, for any input, with the reason.
        Trait values are converted to their declared type, and traits
        without a value are dropped. A string trait value is truncated to
        MAX_TEXT_LENGTH, loses its NUL characters (which PostgreSQL
        cannot store, so no engine keeps them) and has each lone
        surrogate replaced by U+FFFD: a value is data worth keeping with
        a character lost, as it is when truncated, and the raw document
        keeps the original. A NUL or a lone surrogate in the message_id,
        the event type or a trait name refuses the event instead: those
        identify the event and its traits, and altered they would no
        longer match the raw document or another copy of the event.
        Times must fall within MIN_DATETIME and datetime.max once in
        UTC. ``limits`` (EventLimits) bounds the number of traits and the
        size of the raw document's JSON text, which the copy carries in
        ``raw_json``.

        A trait that is already valid as given is shared with the copy.
        """
        limits = limits or EventLimits()
        _check_identifier('message_id', self.message_id,
                          MAX_MESSAGE_ID_LENGTH)
        _check_identifier('event_type', self.event_type, MAX_NAME_LENGTH)
        try:
            generated = storable_datetime(self.generated)
        except (ValueError, TypeError) as e:
            raise InvalidEvent('generated %s is not a valid time: %s'
                               % (safe_text.shown(self.generated), e))
        if not isinstance(self.traits, (list, tuple)):
            raise InvalidEvent('traits is not a list')
        if limits.traits and len(self.traits) > limits.traits:
            raise InvalidEvent(
                'the event has %d traits, more than the limit of %d '
                '([storage] max_event_traits)'
                % (len(self.traits), limits.traits))
        traits = {}
        for trait in self.traits:
            if not isinstance(trait, Trait):
                raise InvalidEvent('a trait is not a Trait but %r'
                                   % type(trait).__name__)
            if trait.value is None:
                continue
            try:
                traits[trait.name] = validated_trait(trait)
            except TypeError as e:
                # An unhashable dtype: what conversions raise is caught.
                raise InvalidEvent('a trait is malformed (%s)' % e)
        raw = self.raw if self.raw is not None else {}
        raw_json = _raw_json(raw, limits.raw_size)
        return Event(self.message_id, self.event_type, generated,
                     sorted(traits.values(), key=lambda t: t.name), raw,
                     raw_json)

    def trait(self, name):
        for trait in self.traits:
            if trait.name == name:
                return trait
        return None

    def owner(self):
        """{name: value} of the OWNER_TRAITS, for the access restriction.

        The value is None for a trait the event lacks or that is not a
        string: EventFilter's ``project_id`` and ``user_id`` compare
        strings, and an event without a project is "unowned".
        """
        owner = {}
        for name in OWNER_TRAITS:
            trait = self.trait(name)
            is_text = trait is not None and trait.dtype == Trait.TEXT_TYPE
            owner[name] = trait.value if is_text else None
        return owner


def validated_trait(trait):
    """The trait as Event.validated() stores it, or InvalidEvent why not.

    Its value converted, range-checked and, for a string, cleaned; a
    Trait with a None value is not given.
    """
    if _is_storable(trait):
        return trait
    if not trait.name or not isinstance(trait.name, str):
        raise InvalidEvent('a trait has no name')
    if NUL in trait.name:
        raise InvalidEvent('trait name %r contains a NUL character'
                           % trait.name[:40])
    if has_surrogate(trait.name):
        raise InvalidEvent('trait name %r contains a lone surrogate, '
                           'which is not Unicode text'
                           % trait.name[:40])
    if len(trait.name) > MAX_NAME_LENGTH:
        raise InvalidEvent('trait name %r is longer than %d characters'
                           % (trait.name[:40], MAX_NAME_LENGTH))
    if trait.dtype not in Trait.TYPE_NAMES:
        raise InvalidEvent('trait %s has an unknown type %r'
                           % (trait.name, trait.dtype))
    dtype = trait.dtype or Trait.TEXT_TYPE
    try:
        value = Trait.convert_value(dtype, trait.value)
        if dtype == Trait.DATETIME_TYPE:
            value = storable_datetime(value)
    except (ValueError, TypeError, OverflowError) as e:
        raise InvalidEvent('trait %s: value %s is not a valid %s (%s)'
                           % (trait.name, safe_text.shown(trait.value),
                              Trait.TYPE_NAMES[dtype], e))
    if dtype == Trait.INT_TYPE and not -2 ** 63 <= value < 2 ** 63:
        raise InvalidEvent('trait %s: integer %s does not fit in 64 bits'
                           % (trait.name, safe_text.shown(value)))
    if dtype == Trait.TEXT_TYPE:
        value = SURROGATE.sub(REPLACEMENT_CHARACTER,
                              value.replace(NUL, ''))[:MAX_TEXT_LENGTH]
    return Trait(trait.name, dtype, value)


def _check_identifier(field, value, max_length):
    """Refuse a message_id or event type no engine stores as it is."""
    if not value or not isinstance(value, str):
        raise InvalidEvent('%s is missing' % field)
    if NUL in value:
        raise InvalidEvent('%s contains a NUL character' % field)
    if has_surrogate(value):
        raise InvalidEvent('%s %r contains a lone surrogate, which is not '
                           'Unicode text' % (field, value[:60]))
    if len(value) > max_length:
        raise InvalidEvent('%s is longer than %d characters'
                           % (field, max_length))


def _raw_json(raw, max_size):
    """The JSON text a raw document is stored as, within ``max_size``.

    json.dumps escapes every character beyond ASCII, so the text's
    length is its size in bytes, and NULs and lone surrogates are
    escapes that every engine stores. NaN and infinities, which
    json.dumps would write but JSON has not, refuse the event: the API
    returns the text as it is.
    """
    if not isinstance(raw, dict):
        raise InvalidEvent('raw is not a JSON object')
    try:
        text = _RAW_ENCODER.encode(raw)
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidEvent('raw is not a JSON document: %s' % e)
    if max_size and len(text) > max_size:
        raise InvalidEvent(
            'raw takes %d bytes as JSON, more than the limit of %d '
            '([storage] max_event_raw_size)' % (len(text), max_size))
    return text


#: For each type, a check that a value is already stored as it is.
_STORABLE_VALUE = {
    Trait.TEXT_TYPE: lambda value: (type(value) is str
                                    and len(value) <= MAX_TEXT_LENGTH
                                    and NUL not in value
                                    and (value.isascii()
                                         or value.isprintable()
                                         or not SURROGATE.search(value))),
    Trait.INT_TYPE: lambda value: (type(value) is int
                                   and -2 ** 63 <= value < 2 ** 63),
    Trait.FLOAT_TYPE: lambda value: (type(value) is float
                                     and math.isfinite(value)),
    Trait.DATETIME_TYPE: lambda value: (type(value) is datetime.datetime
                                        and value.tzinfo is None
                                        and value >= MIN_DATETIME),
}


def _is_storable(trait):
    """Whether a trait is valid and its value needs no conversion.

    Most traits arrive this way (a string trait as a short str, an
    integer as an int...): they are kept as they are, which costs far
    less than checking and converting them. Text is checked for
    surrogates as has_surrogate() does, ASCII text at no cost.
    """
    storable = _STORABLE_VALUE.get(trait.dtype)
    name = trait.name
    return (storable is not None and storable(trait.value)
            and type(name) is str
            and 0 < len(name) <= MAX_NAME_LENGTH
            and NUL not in name
            and (name.isascii() or not has_surrogate(name)))


@dataclasses.dataclass
class TraitFilter:
    """``name op value``; value already converted to ``dtype``."""

    OPERATORS = ('lt', 'le', 'eq', 'ne', 'ge', 'gt')

    name: str
    value: object
    dtype: int = Trait.TEXT_TYPE
    op: str = 'eq'


@dataclasses.dataclass
class EventFilter:
    """What to select; every field left at None does not restrict.

    The access restriction the API derives from policy is expressed with
    ``project_id``, ``user_id`` and ``include_unowned``: events whose
    project_id trait equals ``project_id`` (or, with ``include_unowned``,
    that have no project_id trait at all) and whose user_id trait equals
    ``user_id``.
    """

    event_type: str = None
    message_id: str = None
    start_timestamp: datetime.datetime = None
    end_timestamp: datetime.datetime = None
    traits_filter: list = dataclasses.field(default_factory=list)
    project_id: str = None
    user_id: str = None
    include_unowned: bool = False


@dataclasses.dataclass
class Pagination:
    """Page size, position and order of a listing.

    ``sort`` is a list of (key, direction); message_id is appended as the
    final tie-breaker so that pages never skip or repeat events.
    """

    SORT_KEYS = ('generated', 'message_id')
    SORT_DIRS = ('asc', 'desc')
    DEFAULT_SORT = (('generated', 'asc'), ('message_id', 'asc'))

    limit: int = None
    marker: str = None
    sort: list = dataclasses.field(default_factory=list)

    def sort_order(self):
        """The full, validated sort order, ending with message_id."""
        order = []
        for key, direction in self.sort or self.DEFAULT_SORT:
            if key not in self.SORT_KEYS:
                raise ValueError('invalid sort key %r' % key)
            if direction not in self.SORT_DIRS:
                raise ValueError('invalid sort direction %r' % direction)
            if key not in (k for k, _ in order):
                order.append((key, direction))
        if 'message_id' not in dict(order):
            order.append(('message_id', order[-1][1]))
        return order


@dataclasses.dataclass
class RecordResult:
    """What record_events did with each event it was given."""

    stored: list = dataclasses.field(default_factory=list)
    duplicates: list = dataclasses.field(default_factory=list)
    #: (message_id, reason) pairs
    rejected: list = dataclasses.field(default_factory=list)


#: Longest reason and message_id a dead letter keeps, after escaping.
MAX_DEAD_LETTER_REASON = 1024
MAX_DEAD_LETTER_MESSAGE_ID = 255
#: Longest door and kind names.
MAX_DEAD_LETTER_NAME = 32
#: Longest payload a dead letter keeps, in characters of its JSON text
#: (ASCII, so as many bytes); a longer one is cut and the letter marked
#: ``truncated``.
MAX_DEAD_LETTER_PAYLOAD = 1024 * 1024

@dataclasses.dataclass
class DeadLetter:
    """Something that could not become stored events, kept for an operator.

    ``door`` says where it came in ('dispatcher', 'publisher', 'api') and
    ``kind`` what the payload is: 'event' (one event as Ceilometer
    serializes it on the wire), 'notification' (a raw OpenStack
    notification: event_type, payload, metadata, publisher_id, priority)
    or 'message' (a whole message that could not be read at all).
    ``payload`` is any JSON document. The store sets ``created_at`` (naive
    UTC, now when None), ``id`` and ``truncated``: a letter whose payload
    was longer than MAX_DEAD_LETTER_PAYLOAD is stored truncated, its
    payload then the text of the first characters of its JSON, and it
    cannot be replayed.
    """

    door: str
    kind: str
    reason: str
    payload: object
    message_id: str = None
    created_at: datetime.datetime = None
    id: int = None
    truncated: bool = False
