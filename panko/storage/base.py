"""The interface every storage driver implements."""

import abc
import dataclasses
import datetime
import json

from oslo_log import log
from oslo_utils import timeutils

from panko import safe_text
from panko import scrub
from panko import storage
from panko.storage import models
from panko.storage import retention

LOG = log.getLogger(__name__)

#: Events deleted per batch (a transaction, a round trip) by
#: clear_expired_data.
EXPIRY_CHUNK = 1000


def dead_letter_fields(letter):
    """What a driver stores of a DeadLetter, every field storable as is.

    The payload is scrubbed of credentials and kept as ASCII JSON text
    (lone surrogates, NUL and characters beyond the BMP as ``\\u``
    escapes, integers of any size as digits); longer than
    MAX_DEAD_LETTER_PAYLOAD, it is cut to that length and ``truncated``
    is set. A payload that cannot be encoded at all (not JSON) is kept as
    the text of the error, truncated too. Door, kind, reason and
    message_id become printable ASCII cut to their column sizes (door,
    kind and reason empty when missing).
    """
    truncated = False
    try:
        text = json.dumps(scrub.scrub(letter.payload), ensure_ascii=True,
                          default=repr)
    except (ValueError, TypeError, RecursionError) as e:
        text, truncated = 'unencodable payload: %s' % e, True
    if len(text) > models.MAX_DEAD_LETTER_PAYLOAD:
        text, truncated = text[:models.MAX_DEAD_LETTER_PAYLOAD], True
    created_at = letter.created_at
    if isinstance(created_at, datetime.datetime):
        created_at = timeutils.normalize_time(created_at)
    else:
        created_at = timeutils.utcnow()
    return {
        'created_at': created_at,
        'door': safe_text.printable(_text(letter.door),
                                 models.MAX_DEAD_LETTER_NAME),
        'kind': safe_text.printable(_text(letter.kind),
                                 models.MAX_DEAD_LETTER_NAME),
        'message_id': safe_text.printable(letter.message_id,
                                       models.MAX_DEAD_LETTER_MESSAGE_ID),
        'reason': safe_text.printable(_text(letter.reason),
                                   models.MAX_DEAD_LETTER_REASON),
        'payload': text,
        'truncated': truncated,
    }


def _text(value):
    return '' if value is None else value


def dead_letter_from_fields(letter_id, fields):
    """The DeadLetter of stored fields, its payload decoded."""
    text = fields['payload']
    return models.DeadLetter(
        id=letter_id, created_at=fields['created_at'], door=fields['door'],
        kind=fields['kind'], message_id=fields['message_id'],
        reason=fields['reason'], truncated=bool(fields['truncated']),
        payload=text if fields['truncated'] else json.loads(text))


def after_marker(marker, values, order):
    """The keyset condition "comes after the marker event", to translate.

    ``order`` is Pagination.sort_order(); ``values`` the marker event's
    value of each of its keys, or None when the driver found no event
    ``marker`` among those the caller may see (so that a marker cannot
    probe for other projects' events): InvalidMarker then.

    Returns ``(leading, alternatives)`` of ``(key, op, value)``
    comparisons, ``op`` one of TraitFilter.OPERATORS: an event comes
    after the marker when it satisfies ``leading`` and every comparison
    of one of the ``alternatives``. ``leading`` is redundant with the
    alternatives, but gives the database index bounds on the first sort
    key.
    """
    if values is None:
        raise storage.InvalidMarker('marker %s not found' % marker)
    alternatives = []
    for position, (key, direction) in enumerate(order):
        ties = [(tied, 'eq', values[tied]) for tied, _ in order[:position]]
        beyond = (key, 'gt' if direction == 'asc' else 'lt', values[key])
        alternatives.append(ties + [beyond])
    first_key, first_direction = order[0]
    leading = (first_key, 'ge' if first_direction == 'asc' else 'le',
               values[first_key])
    return leading, alternatives


@dataclasses.dataclass(frozen=True)
class SchemaStatus:
    """Where a database's versioned schema stands against this release.

    ``current`` is the revision the database is at, None when it has
    none; ``head`` the revision this release needs; ``panko10`` whether
    a database without a revision holds the tables of Panko 10, which
    stamped none (panko-dbsync adopts them).
    """

    current: str
    head: str
    panko10: bool = False


class Connection(metaclass=abc.ABCMeta):
    """A connection to an event store.

    Drivers override what they support; ``CAPABILITIES`` and
    ``STORAGE_CAPABILITIES`` say what that is, and the API reports them.
    """

    CAPABILITIES = {'events': {'query': {'simple': False}}}
    STORAGE_CAPABILITIES = {'storage': {'production_ready': False}}
    #: Whether the driver reads events from a replica's ``reader_url``.
    READS_FROM_REPLICA = False

    def __init__(self, conf, url, query_timeout=0, reader_url=None):
        self.conf = conf
        self.limits = models.EventLimits(
            raw_size=conf.storage.max_event_raw_size,
            traits=conf.storage.max_event_traits)
        #: Seconds a statement may run; 0 for no limit (see
        #: panko.storage.get_connection).
        self.query_timeout = query_timeout
        if reader_url and not self.READS_FROM_REPLICA:
            LOG.warning('[database] slave_connection is ignored: the %s '
                        'storage driver reads from [database] connection '
                        'only', url.partition(':')[0])

    def _validated_batch(self, events, result, prepare=None):
        """The events of a batch worth writing, by message_id, in order.

        An invalid event, or one beyond the configured limits, is
        rejected with its reason and a repeated message_id counted as a
        duplicate, both in ``result``. ``prepare(valid_event)`` may turn
        each event into what the driver writes, and reject it with
        InvalidEvent too.
        """
        batch = {}
        for event in events:
            try:
                valid = event.validated(self.limits)
                prepared = prepare(valid) if prepare else valid
            except models.InvalidEvent as e:
                reason = safe_text.reason(e)
                LOG.warning('Rejecting event %s: %s',
                            safe_text.brief(event.message_id), reason)
                result.rejected.append((event.message_id, reason))
                continue
            if valid.message_id in batch:
                result.duplicates.append(valid.message_id)
            else:
                batch[valid.message_id] = prepared
        return batch

    @classmethod
    def get_capabilities(cls):
        return cls.CAPABILITIES

    @classmethod
    def get_storage_capabilities(cls):
        return cls.STORAGE_CAPABILITIES

    @abc.abstractmethod
    def upgrade(self):
        """Create the schema, or migrate it to the newest version."""

    def schema_status(self):
        """Where the database's schema stands, for panko-status.

        A driver whose schema has revisions that ``upgrade`` migrates
        through returns a :class:`SchemaStatus`, read without changing
        anything. A driver without a versioned schema returns None, the
        default: MongoDB's ``upgrade`` only creates indexes, and the log
        driver stores nothing.
        """
        return None

    @abc.abstractmethod
    def clear(self):
        """Delete every event and dead letter (tests and benchmarks only)."""

    @abc.abstractmethod
    def record_events(self, events):
        """Store a batch of :class:`panko.storage.models.Event`.

        An event whose message_id is already stored is a duplicate and is
        skipped; an invalid event is rejected with a reason; neither stops
        the rest of the batch. Returns a
        :class:`panko.storage.models.RecordResult`. Raises
        :class:`panko.storage.StorageUnavailable` when nothing could be
        committed.
        """

    @abc.abstractmethod
    def get_events(self, event_filter, pagination=None, raw_as_json=False):
        """Return a list of events matching an EventFilter, in order.

        The traits of each event are sorted by name. With ``raw_as_json``
        each event's ``raw`` is the JSON text of its raw document as
        stored, which is what ``json.dumps`` wrote when it was recorded,
        instead of the decoded document: the API puts that text in its
        answers as it is instead of decoding and encoding it again.
        """

    @abc.abstractmethod
    def get_event_types(self):
        """Return the sorted names of every stored event type."""

    @abc.abstractmethod
    def get_trait_types(self, event_type):
        """Return [{'name', 'data_type'}] for the traits of a type."""

    @abc.abstractmethod
    def get_traits(self, event_type, trait_name=None):
        """Return every Trait of the events of a type, maybe one name."""

    def clear_expired_data(self, ttl, max_count=0, rules=()):
        """Delete expired events, ``max_count`` at most (0: no limit).

        An event expires ``ttl`` seconds after it was generated (never
        when ``ttl`` is 0 or less), unless one of the retention ``rules``
        (panko.storage.retention) matches it: then the first that does
        sets its TTL. Returns the number of events deleted.

        Events older than every TTL go first, by the driver's
        :meth:`_drop_expired_partitions` (not counted against
        ``max_count``). Then each :class:`retention.Selector` of the rules
        is handed to the driver's :meth:`_delete_expired_events`, oldest
        events first, in batches of EXPIRY_CHUNK so that a large backlog
        never makes one giant transaction; then the driver's
        :meth:`_delete_unused_event_types` tidies up after them.
        """
        now = timeutils.utcnow()
        oldest = retention.oldest_cutoff(rules, ttl, now)
        deleted = 0
        if oldest is not None:
            deleted = self._drop_expired_partitions(oldest)
        event_types = (self.get_event_types()
                       if retention.needs_event_types(rules) else None)
        budget = max_count
        for selector in retention.selectors(rules, ttl, event_types, now):
            count = self._delete_selected(selector, budget)
            LOG.info('Expired %d events generated before %s (%s)', count,
                     selector.cutoff, selector.describe())
            deleted += count
            if max_count:
                budget -= count
                if not budget:
                    break
        types_removed = self._delete_unused_event_types()
        LOG.info('Expired %d events; removed %d event types left without '
                 'events', deleted, types_removed)
        return deleted

    def _delete_selected(self, selector, budget):
        """Delete the events of ``selector``, ``budget`` at most (0: all)."""
        deleted = 0
        while not budget or deleted < budget:
            limit = EXPIRY_CHUNK
            if budget:
                limit = min(limit, budget - deleted)
            count = self._delete_expired_events(selector, limit)
            if count is None:
                break
            deleted += count
        return deleted

    def _drop_expired_partitions(self, cutoff):
        """Drop whole stored ranges of events generated before ``cutoff``.

        For a driver that stores events in partitions of time: no rule
        keeps any event generated before ``cutoff``. Returns how many
        events went with them. The default stores no partitions and
        drops nothing.
        """
        return 0

    @abc.abstractmethod
    def _delete_expired_events(self, selector, limit):
        """Delete the ``limit`` oldest events a Selector selects.

        ``selector`` (panko.storage.retention.Selector) has the cutoff,
        the event types (names) and the project condition. Returns how
        many were deleted, or None when no such event was left, which
        ends that selector's rounds.
        """

    @abc.abstractmethod
    def _delete_unused_event_types(self):
        """Forget what is recorded of event types left without events.

        Returns how many event types were left without events.
        """

    # Dead letters

    @abc.abstractmethod
    def record_dead_letters(self, letters):
        """Store :class:`panko.storage.models.DeadLetter` in one transaction.

        Never fails because of what the letters hold: each is stored as
        :func:`dead_letter_fields` makes it (credentials scrubbed, payload
        as ASCII JSON text, a payload over MAX_DEAD_LETTER_PAYLOAD cut and
        marked ``truncated``, text fields escaped and cut to size).
        Raises :class:`panko.storage.StorageUnavailable` when the database
        cannot be reached (nothing was stored: the caller retries), and
        StorageError on any other database failure.
        """

    @abc.abstractmethod
    def get_dead_letters(self, limit=None, after_id=None, door=None):
        """Return stored DeadLetters, oldest (lowest id) first.

        At most ``limit``, only those with an id above ``after_id`` (to
        page through them), only those of ``door``. Payloads are decoded,
        but a ``truncated`` letter's payload is the text that was kept.
        """

    @abc.abstractmethod
    def count_dead_letters(self, door=None):
        """Return how many dead letters are stored, maybe of one door."""

    @abc.abstractmethod
    def update_dead_letter_reason(self, letter_id, reason):
        """Replace a letter's reason, escaped and cut as when recorded.

        For a letter that was replayed and rejected again; its id, date
        and payload stay.
        """

    @abc.abstractmethod
    def delete_dead_letters(self, ids=None):
        """Delete the dead letters of ``ids``, every one when None.

        Returns how many were deleted; unknown ids are ignored.
        """
