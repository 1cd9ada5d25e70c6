"""Recording batches of events.

Every door events come in by (the dispatcher, the ``panko://``
publisher, the API) records them here, so that one rule holds for all:
no event stops the others. An event that is invalid, or that the
database refuses for what it holds, is rejected with its reason and set
aside as a dead letter; the rest of its batch is stored. Only an outage
(:class:`panko.storage.StorageUnavailable`) fails the batch, which the
caller then tries again. Raw notifications are kept without the
credentials of their context (see panko.scrub).
"""

from oslo_log import log

from panko import safe_text
from panko import scrub
from panko import storage
from panko.ingestion import wire
from panko.storage import models

LOG = log.getLogger(__name__)

#: Most events written in one transaction: a large batch is cut into
#: chunks so that no single transaction grows without bound.
RECORD_CHUNK = 1000


def record(connection, events, rejected=(), door=None):
    """Record events, adding the ``rejected`` DeadLetters found before.

    Returns a :class:`panko.storage.models.RecordResult` for the whole
    batch. With a ``door``, every rejected event is also kept as a dead
    letter from that door once the others are stored; without one (a
    replay of dead letters), none is written. Raises
    :class:`panko.storage.StorageUnavailable` on an outage; chunks
    committed before it stay stored and are skipped as duplicates when
    the batch is tried again.
    """
    return record_stream(connection, [(events, rejected)], door)


def record_stream(connection, parts, door=None):
    """Record ``(events, rejected)`` parts as they are produced.

    Events are written RECORD_CHUNK at a time as soon as that many are
    pending, so a large batch is never held whole in memory as parsed
    events. Same result, dead letters and errors as :func:`record`.
    """
    result = models.RecordResult()
    letters = []
    pending = []
    for events, rejected in parts:
        for letter in rejected:
            result.rejected.append((letter.message_id, letter.reason))
            letters.append(letter)
        pending.extend(map(_without_credentials, events))
        while len(pending) >= RECORD_CHUNK:
            _record_isolating(connection, pending[:RECORD_CHUNK], result,
                              letters)
            del pending[:RECORD_CHUNK]
    if pending:
        _record_isolating(connection, pending, result, letters)
    if door is not None and letters:
        for letter in letters:
            letter.door = door
        connection.record_dead_letters(letters)
        LOG.warning('%d events from the %s set aside as dead letters',
                    len(letters), door)
    return result


def _without_credentials(event):
    """The event, its raw notification's context scrubbed of tokens.

    Checked signatures stay valid: they were verified before this.
    """
    if event.raw:
        event.raw = scrub.scrub_notification(event.raw)
    return event


def _record_isolating(connection, events, result, letters):
    """Record events; should the store refuse them, find which and why.

    A refused batch is split in halves, each recorded the same way, down
    to the single events at fault, which are rejected. The halves that
    succeed are committed: trying one again only finds its events stored
    as duplicates. An outage is raised at once.
    """
    try:
        chunk = connection.record_events(events)
    except storage.StorageUnavailable:
        raise
    except Exception as e:
        if len(events) > 1:
            LOG.warning('The store refused a batch of %d events (%s); '
                        'looking for the events at fault', len(events),
                        safe_text.reason(e))
            middle = len(events) // 2
            _record_isolating(connection, events[:middle], result, letters)
            _record_isolating(connection, events[middle:], result, letters)
            return
        if not isinstance(e, storage.UnstorableEvents):
            # Not a refusal the driver knows: keep the trace for a bug
            # report; the event is set aside and can be replayed.
            LOG.exception('Unexpected error storing event %s',
                          safe_text.brief(events[0].message_id))
        chunk = models.RecordResult(rejected=[(
            events[0].message_id,
            'the store cannot hold it: %s' % safe_text.reason(e))])
    result.stored.extend(chunk.stored)
    result.duplicates.extend(chunk.duplicates)
    result.rejected.extend(chunk.rejected)
    letters.extend(_dead_letters(events, chunk.rejected))


def _dead_letters(events, rejected):
    """DeadLetters of the events the store rejected, with their reasons."""
    if not rejected:
        return []
    by_id = {}
    for event in events:
        if isinstance(event.message_id, str):
            by_id.setdefault(event.message_id, event)
    letters = []
    for message_id, reason in rejected:
        event = by_id.get(message_id)
        letters.append(models.DeadLetter(
            door=None, kind='event', reason=reason, message_id=message_id,
            payload=wire.serialize_event(event) if event else None))
    return letters

