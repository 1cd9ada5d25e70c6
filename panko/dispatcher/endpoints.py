"""Batch notification endpoints: parse, record, then acknowledge.

A batch is acknowledged only once every event in it is committed. When
the store fails, the whole batch is requeued after a growing delay, and
events already committed are skipped as duplicates when it comes back. A
message that cannot be read at all is logged in full on the
``panko.dispatcher.dead_letter`` logger and acknowledged, so that it is
set aside instead of coming back forever.
"""

import functools
import json
import threading

from oslo_context import context
from oslo_log import log
import oslo_messaging

from panko import storage
from panko.ingestion import definitions
from panko.ingestion import recorder
from panko.ingestion import wire

LOG = log.getLogger(__name__)
DEAD_LETTER_LOG = log.getLogger('panko.dispatcher.dead_letter')

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


class BatchEndpoint:
    def __init__(self, conf, connection):
        self.connection = connection
        self.backoff = Backoff(conf.dispatcher.requeue_delay_max)
        self.stopping = threading.Event()

    def stop(self):
        """Cut short a back-off wait so that shutdown is not delayed."""
        self.stopping.set()

    def process(self, messages, events_of):
        """Record the events of a batch of messages; say what to do next.

        ``events_of(message)`` returns the message's events and the
        (message_id, reason) pairs of those it rejects. Messages are parsed
        as the events are written, a chunk at a time. Every line logged
        for the batch carries the same request id: oslo.log writes the
        thread's current context on each line.
        """
        context.RequestContext(overwrite=True)

        def parts():
            for message in messages:
                try:
                    yield events_of(message)
                except Exception as e:
                    # Whatever fails here fails the same way on every
                    # redelivery: the message is set aside, not requeued.
                    set_aside(message, e)

        try:
            result = recorder.record_stream(self.connection, parts())
        except storage.StorageError as e:
            return self.requeue(messages, e)
        except Exception as e:
            # Not the data's fault (that is rejected, not raised): keep
            # the messages rather than lose them, and say why loudly.
            LOG.exception('Unexpected error while storing events')
            return self.requeue(messages, e)
        self.backoff.reset()
        LOG.debug('%d messages: %d events stored, %d duplicates, %d '
                  'rejected', len(messages), len(result.stored),
                  len(result.duplicates), len(result.rejected))
        return oslo_messaging.NotificationResult.HANDLED

    def requeue(self, messages, error):
        delay = self.backoff.next_delay()
        LOG.warning('Cannot store events (%s); requeuing %d messages in '
                    '%.0f s', error, len(messages), delay)
        self.stopping.wait(delay)
        return oslo_messaging.NotificationResult.REQUEUE


def set_aside(message, reason):
    """Log a message that cannot be used, in full, then let it be acked."""
    DEAD_LETTER_LOG.error('Setting aside message %s: %s. Content: %s',
                          message.get('metadata', {}).get('message_id'),
                          reason, json.dumps(message, default=repr))


class EventEndpoint(BatchEndpoint):
    """Ceilometer's event messages: a list of serialized events each."""

    def __init__(self, conf, connection):
        super().__init__(conf, connection)
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

    def __init__(self, conf, connection, normalizer):
        super().__init__(conf, connection)
        self.normalizer = normalizer

    def info(self, messages):
        return self.process(
            messages, functools.partial(self.events_of, 'info'))

    def warn(self, messages):
        return self.process(
            messages, functools.partial(self.events_of, 'warn'))

    def error(self, messages):
        return self.process(
            messages, functools.partial(self.events_of, 'error'))

    def critical(self, messages):
        return self.process(
            messages, functools.partial(self.events_of, 'critical'))

    def events_of(self, priority, message):
        try:
            event = self.normalizer.to_event(message, priority)
        except definitions.InvalidNotification as e:
            message_id = message.get('metadata', {}).get('message_id')
            LOG.warning('Rejecting notification %s (%s): %s', message_id,
                        message.get('event_type'), e)
            return [], [(message_id, str(e))]
        return ([event] if event is not None else []), []
