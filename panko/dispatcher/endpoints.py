"""Batch notification endpoints: parse, record, then acknowledge.

A batch is acknowledged only once its events are committed. An event
that is invalid or that the store refuses, and a message that cannot be
read at all, are set aside as dead letters with their reason while the
rest of the batch is stored (panko.ingestion.recorder). When the store
has an outage, the whole batch is requeued after a growing delay, as
often as it takes; events already committed are skipped as duplicates
when it comes back. A batch that fails for any other reason is requeued
too, but a message delivered ``[dispatcher] max_redeliveries`` times
without being stored is then set aside, so that no message can stop
ingestion for good.
"""

import collections
import functools
import hashlib
import json
import threading

from oslo_context import context
from oslo_log import log
import oslo_messaging

from panko import safe_text
from panko import storage
from panko.dispatcher import stats as dispatcher_stats
from panko.ingestion import definitions
from panko.ingestion import recorder
from panko.ingestion import wire
from panko.storage import models

LOG = log.getLogger(__name__)

#: Messages whose failed deliveries are remembered, at most.
REMEMBERED_MESSAGES = 10000


class PoisonMessage(ValueError):
    """A message that can never become events; the text says why."""


class Backoff:
    """Delays that double from one second up to a maximum."""

    def __init__(self, maximum):
        self.maximum = maximum
        self.failures = 0

    def next_delay(self):
        self.failures += 1
        return min(self.maximum, 2.0 ** (self.failures - 1))

    def reset(self):
        self.failures = 0


class FailedDeliveries:
    """How many times each message came and failed, in this process.

    The broker does not say how often a message was redelivered, so each
    worker counts the failures it saw, by the message's id, for the most
    recent REMEMBERED_MESSAGES messages. A message another worker failed
    starts again from zero here: the limit is per worker.
    """

    def __init__(self):
        self._counts = collections.OrderedDict()

    @staticmethod
    def key(message):
        message_id = message_id_of(message)
        if message_id:
            return message_id
        return hashlib.sha256(json.dumps(
            message, sort_keys=True, default=repr).encode(
                'utf-8', 'backslashreplace')).hexdigest()

    def count(self, message):
        # Nothing failed lately, the usual case: no key to compute.
        if not self._counts:
            return 0
        return self._counts.get(self.key(message), 0)

    def failed(self, messages):
        for message in messages:
            key = self.key(message)
            self._counts[key] = self._counts.pop(key, 0) + 1
        while len(self._counts) > REMEMBERED_MESSAGES:
            self._counts.popitem(last=False)

    def handled(self, messages):
        if not self._counts:
            return
        for message in messages:
            self._counts.pop(self.key(message), None)


class BatchEndpoint:
    """``stats``: the Stats of the worker, shared by its endpoints."""

    def __init__(self, conf, connection, stats=None):
        self.connection = connection
        self.stats = stats if stats is not None else dispatcher_stats.Stats()
        self.backoff = Backoff(conf.dispatcher.requeue_delay_max)
        self.max_redeliveries = conf.dispatcher.max_redeliveries
        self.failures = FailedDeliveries()
        self.stopping = threading.Event()

    def stop(self):
        """Cut short a back-off wait so that shutdown is not delayed."""
        self.stopping.set()

    def process(self, messages, events_of, priority=None):
        """Record the events of a batch of messages; say what to do next.

        ``events_of(message)`` returns the message's events and the
        DeadLetters of those it rejects. Messages are parsed as the events
        are written, a chunk at a time. Every line logged for the batch
        carries the same request id: oslo.log writes the thread's current
        context on each line.
        """
        context.RequestContext(overwrite=True)
        last_event = []

        def parts():
            for message in messages:
                failures = self.failures.count(message)
                if failures >= self.max_redeliveries:
                    yield [], [self.letter(
                        message, 'not stored after %d deliveries' % failures,
                        priority)]
                    continue
                try:
                    events, rejected = events_of(message)
                except Exception as e:
                    # Whatever fails here fails the same way on every
                    # redelivery: the message is set aside, not requeued.
                    yield [], [self.letter(message, safe_text.reason(e),
                                           priority)]
                    continue
                if events:
                    last_event[:] = events[-1:]
                yield events, rejected

        try:
            result = recorder.record_stream(self.connection, parts(),
                                            door='dispatcher')
        except storage.StorageUnavailable as e:
            return self.requeue(messages, e)
        except Exception as e:
            # Not the data's fault (that is set aside, not raised): keep
            # the messages rather than lose them, and say why loudly.
            LOG.exception('Unexpected error while storing events')
            self.failures.failed(messages)
            return self.requeue(messages, e)
        self.backoff.reset()
        self.failures.handled(messages)
        self.stats.recorded(len(messages), result, *last_event)
        LOG.debug('%d messages: %d events stored, %d duplicates, %d '
                  'rejected', len(messages), len(result.stored),
                  len(result.duplicates), len(result.rejected))
        return oslo_messaging.NotificationResult.HANDLED

    def requeue(self, messages, error):
        self.stats.requeued(len(messages))
        delay = self.backoff.next_delay()
        LOG.warning('Cannot store events (%s); requeuing %d messages in '
                    '%.0f s', safe_text.reason(error), len(messages), delay)
        self.stopping.wait(delay)
        return oslo_messaging.NotificationResult.REQUEUE


    def letter(self, message, reason, priority=None):
        """The dead letter of a message that cannot be used as it is.

        A Ceilometer message is kept whole: ``panko-dead-letters replay``
        records the events of its payload.
        """
        return message_letter(message, reason, 'message')


def message_id_of(message):
    """The oslo.messaging id of a message, or None when it has none."""
    metadata = message.get('metadata')
    message_id = (metadata.get('message_id')
                  if isinstance(metadata, dict) else None)
    return message_id if isinstance(message_id, str) else None


def message_letter(message, reason, kind):
    message_id = message_id_of(message)
    LOG.error('Setting aside message %s: %s', safe_text.brief(message_id),
              reason)
    return models.DeadLetter(door=None, kind=kind, reason=reason,
                             payload=message, message_id=message_id)


class EventEndpoint(BatchEndpoint):
    """Ceilometer's event messages: a list of serialized events each."""

    def __init__(self, conf, connection, stats=None):
        super().__init__(conf, connection, stats)
        self.secret = conf.dispatcher.telemetry_secret

    def sample(self, messages):
        return self.process(messages, self.events_of)

    def events_of(self, message):
        payload = message.get('payload')
        if not isinstance(payload, list):
            raise PoisonMessage('the payload must be a list of events, '
                                'got %s' % wire.json_type(payload))
        return wire.parse_events(payload, self.secret)


class NotificationEndpoint(BatchEndpoint):
    """Raw notifications of the OpenStack services, one event each."""

    def __init__(self, conf, connection, normalizer, stats=None):
        super().__init__(conf, connection, stats)
        self.normalizer = normalizer

    def info(self, messages):
        return self.process_priority('info', messages)

    def warn(self, messages):
        return self.process_priority('warn', messages)

    def error(self, messages):
        return self.process_priority('error', messages)

    def critical(self, messages):
        return self.process_priority('critical', messages)

    def process_priority(self, priority, messages):
        return self.process(
            messages, functools.partial(self.events_of, priority), priority)

    def letter(self, message, reason, priority=None):
        """A notification set aside, with the priority it came with (the
        message does not carry it), so that a replay normalizes it alike.
        """
        return message_letter(dict(message, priority=priority), reason,
                              'notification')

    def events_of(self, priority, message):
        try:
            event = self.normalizer.to_event(message, priority)
        except definitions.InvalidNotification as e:
            message_id = message_id_of(message)
            reason = safe_text.reason(e)
            LOG.warning('Rejecting notification %s (%s): %s',
                        safe_text.brief(message_id),
                        safe_text.brief(message.get('event_type')), reason)
            return [], [models.DeadLetter(
                door=None, kind='notification', reason=reason,
                payload=dict(message, priority=priority),
                message_id=message_id)]
        return ([event] if event is not None else []), []
