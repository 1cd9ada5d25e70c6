"""The interface every storage driver implements."""

import abc
import copy

from oslo_log import log

from panko.storage import models

LOG = log.getLogger(__name__)


def update_nested(original, updates):
    """A deep copy of ``original`` with the nested dict ``updates`` merged."""
    merged = copy.deepcopy(original)
    for key, value in updates.items():
        if isinstance(value, dict):
            merged[key] = update_nested(merged.get(key, {}), value)
        else:
            merged[key] = value
    return merged


class Connection(metaclass=abc.ABCMeta):
    """A connection to an event store.

    Drivers override what they support; ``CAPABILITIES`` and
    ``STORAGE_CAPABILITIES`` say what that is, and the API reports them.
    """

    CAPABILITIES = {'events': {'query': {'simple': False}}}
    STORAGE_CAPABILITIES = {'storage': {'production_ready': False}}

    def __init__(self, conf, url, query_timeout=0):
        self.conf = conf
        #: Seconds a statement may run; 0 for no limit (see
        #: panko.storage.get_connection).
        self.query_timeout = query_timeout

    @staticmethod
    def _validated_batch(events, result, prepare=None):
        """The events of a batch worth writing, by message_id, in order.

        An invalid event is rejected with its reason and a repeated
        message_id counted as a duplicate, both in ``result``.
        ``prepare(valid_event)`` may turn each event into what the driver
        writes, and reject it with InvalidEvent too.
        """
        batch = {}
        for event in events:
            try:
                valid = event.validated()
                prepared = prepare(valid) if prepare else valid
            except models.InvalidEvent as e:
                LOG.warning('Rejecting event %s: %s', event.message_id, e)
                result.rejected.append((event.message_id, str(e)))
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

    @abc.abstractmethod
    def clear(self):
        """Delete every event (tests and benchmarks only)."""

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

    @abc.abstractmethod
    def clear_expired_data(self, ttl, max_count=0):
        """Delete events older than ``ttl`` seconds, ``max_count`` at most.

        Returns the number of events deleted.
        """
