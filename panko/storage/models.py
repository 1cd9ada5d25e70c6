"""The event model shared by every storage driver, the API and ingestion."""

import dataclasses
import datetime
import math
import re

from oslo_utils import timeutils

#: Longest text a string trait keeps; longer values are truncated.
MAX_TEXT_LENGTH = 255
#: PostgreSQL's text types cannot hold it.
NUL = '\x00'
#: Longest event type and trait name accepted.
MAX_NAME_LENGTH = 255
#: Longest message_id accepted (a UUID is 36 characters).
MAX_MESSAGE_ID_LENGTH = 50


class InvalidEvent(ValueError):
    """An event that cannot be stored as given; the text says why."""


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

    @property
    def type_name(self):
        return self.TYPE_NAMES[self.dtype]

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
    """Turn an ISO 8601 string or a datetime into a naive UTC datetime."""
    if isinstance(value, str):
        value = parse_isotime(value)
    if not isinstance(value, datetime.datetime):
        raise ValueError('%r is not a date and time' % (value,))
    return timeutils.normalize_time(value)


def parse_isotime(text):
    """ISO 8601 text as a datetime, naive meaning UTC.

    Python's own parser reads the forms events carry (what isoformat()
    writes, with or without an offset) five times faster than iso8601,
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

    def validated(self):
        """Return a copy fit for storage, or raise InvalidEvent.

        Trait values are converted to their declared type, strings are
        truncated to MAX_TEXT_LENGTH and lose their NUL characters (which
        PostgreSQL cannot store, so no engine keeps them), and traits
        without a value are dropped. A NUL in a name or id refuses the
        event.
        A trait that is already valid as given is shared with the copy.
        """
        if not self.message_id or not isinstance(self.message_id, str):
            raise InvalidEvent('message_id is missing')
        if NUL in self.message_id:
            raise InvalidEvent('message_id contains a NUL character')
        if len(self.message_id) > MAX_MESSAGE_ID_LENGTH:
            raise InvalidEvent('message_id is longer than %d characters'
                               % MAX_MESSAGE_ID_LENGTH)
        if not self.event_type or not isinstance(self.event_type, str):
            raise InvalidEvent('event_type is missing')
        if NUL in self.event_type:
            raise InvalidEvent('event_type contains a NUL character')
        if len(self.event_type) > MAX_NAME_LENGTH:
            raise InvalidEvent('event_type is longer than %d characters'
                               % MAX_NAME_LENGTH)
        try:
            generated = normalize_datetime(self.generated)
        except (ValueError, TypeError) as e:
            raise InvalidEvent('generated %r is not a valid time: %s'
                               % (self.generated, e))
        traits = {}
        for trait in self.traits:
            if trait.value is None:
                continue
            traits[trait.name] = self._validated_trait(trait)
        raw = self.raw if self.raw is not None else {}
        if not isinstance(raw, dict):
            raise InvalidEvent('raw is not a JSON object')
        return Event(self.message_id, self.event_type, generated,
                     sorted(traits.values(), key=lambda t: t.name), raw)

    @staticmethod
    def _validated_trait(trait):
        if _is_storable(trait):
            return trait
        if not trait.name or not isinstance(trait.name, str):
            raise InvalidEvent('a trait has no name')
        if NUL in trait.name:
            raise InvalidEvent('trait name %r contains a NUL character'
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
        except (ValueError, TypeError, OverflowError) as e:
            raise InvalidEvent('trait %s: value %r is not a valid %s (%s)'
                               % (trait.name, trait.value,
                                  Trait.TYPE_NAMES[dtype], e))
        if dtype == Trait.INT_TYPE and not -2 ** 63 <= value < 2 ** 63:
            raise InvalidEvent('trait %s: integer %d does not fit in 64 bits'
                               % (trait.name, value))
        if dtype == Trait.TEXT_TYPE:
            value = value.replace(NUL, '')[:MAX_TEXT_LENGTH]
        return Trait(trait.name, dtype, value)

    def trait(self, name):
        for trait in self.traits:
            if trait.name == name:
                return trait
        return None


#: For each type, a check that a value is already stored as it is.
_STORABLE_VALUE = {
    Trait.TEXT_TYPE: lambda value: (type(value) is str
                                    and len(value) <= MAX_TEXT_LENGTH
                                    and NUL not in value),
    Trait.INT_TYPE: lambda value: (type(value) is int
                                   and -2 ** 63 <= value < 2 ** 63),
    Trait.FLOAT_TYPE: lambda value: (type(value) is float
                                     and math.isfinite(value)),
    Trait.DATETIME_TYPE: lambda value: (type(value) is datetime.datetime
                                        and value.tzinfo is None),
}


def _is_storable(trait):
    """Whether a trait is valid and its value needs no conversion.

    Most traits arrive this way (a string trait as a short str, an
    integer as an int...): they are kept as they are, which costs a fifth
    of checking and converting them.
    """
    storable = _STORABLE_VALUE.get(trait.dtype)
    return (storable is not None and storable(trait.value)
            and type(trait.name) is str
            and 0 < len(trait.name) <= MAX_NAME_LENGTH
            and NUL not in trait.name)


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

#: What printable() escapes: anything but printable ASCII.
_UNPRINTABLE = re.compile(r'[^\x20-\x7e]')


def printable(text, limit):
    """``text`` as printable ASCII of at most ``limit`` characters.

    Control characters, lone surrogates and every other non-ASCII
    character become Python escapes (``\\n``, ``\\x00``, ``\\ud800``,
    ``\\xe9``, ``\\U0001f600``), so the text fits any column charset and
    any terminal. Longer text is cut and ends with ``...``. None stays
    None; anything else is turned into text first.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    escaped = _UNPRINTABLE.sub(_escape, text[:limit])
    if len(text) <= limit and len(escaped) <= limit:
        return escaped
    # Cut between characters, never inside an escape.
    kept, size = [], 0
    for character in text[:limit]:
        piece = _UNPRINTABLE.sub(_escape, character)
        if size + len(piece) > limit - 3:
            break
        kept.append(piece)
        size += len(piece)
    return ''.join(kept) + '...'


def _escape(match):
    return match.group().encode('unicode_escape').decode('ascii')


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
