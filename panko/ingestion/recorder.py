"""Recording batches of events, and the body of ``POST /v2/events``."""

from oslo_log import log

from panko.ingestion import wire
from panko.storage import models

LOG = log.getLogger(__name__)

#: Most events written in one transaction: a large batch is cut into
#: chunks so that no single transaction grows without bound.
RECORD_CHUNK = 1000


class InvalidBody(ValueError):
    """A request body that is not a list of events; the text says why."""


def record(connection, events, rejected=()):
    """Record events, adding the ``rejected`` pairs found before storage.

    Returns a :class:`panko.storage.models.RecordResult` for the whole
    batch. Raises :class:`panko.storage.StorageError` when a chunk could
    not be committed; chunks committed before it stay stored and are
    skipped as duplicates when the batch is tried again.
    """
    return record_stream(connection, [(events, rejected)])


def record_stream(connection, parts):
    """Record ``(events, rejected)`` parts as they are produced.

    Events are written RECORD_CHUNK at a time as soon as that many are
    pending, so a large batch is never held whole in memory as parsed
    events. Same result and errors as :func:`record`.
    """
    result = models.RecordResult()
    pending = []
    for events, rejected in parts:
        result.rejected.extend(rejected)
        pending.extend(events)
        while len(pending) >= RECORD_CHUNK:
            _record_chunk(connection, pending[:RECORD_CHUNK], result)
            del pending[:RECORD_CHUNK]
    if pending:
        _record_chunk(connection, pending, result)
    return result


def _record_chunk(connection, events, result):
    chunk = connection.record_events(events)
    result.stored.extend(chunk.stored)
    result.duplicates.extend(chunk.duplicates)
    result.rejected.extend(chunk.rejected)


def ingest_serialized(connection, body, secret=''):
    """Record the decoded JSON body Ceilometer's ``http://`` publisher posts.

    The publisher posts a list of serialized events (the same dicts as in
    the dispatcher's messages), or, with ``batch=False`` in its URL, one
    event object per request. Each event that is malformed, or whose
    signature does not match ``secret`` when one is given, is rejected
    with a reason; the others are recorded. Events without a signature are
    accepted: the publisher signs none, and the API has authenticated and
    authorized the caller already. Raises InvalidBody when the body is
    neither, and StorageError when the database fails.
    """
    events = [body] if isinstance(body, dict) else body
    if not isinstance(events, list):
        raise InvalidBody('the body must be a JSON array of events or one '
                          'event object, got %s' % wire.json_type(body))
    for position, event in enumerate(events):
        if not isinstance(event, dict):
            raise InvalidBody('element %d of the body must be an event '
                              'object, got %s'
                              % (position, wire.json_type(event)))
    parsed, rejected = wire.parse_events(events, secret,
                                         accept_unsigned=True)
    return record(connection, parsed, rejected)
