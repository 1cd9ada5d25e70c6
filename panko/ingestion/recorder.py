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
    result = models.RecordResult(rejected=list(rejected))
    for start in range(0, len(events), RECORD_CHUNK):
        chunk = connection.record_events(events[start:start + RECORD_CHUNK])
        result.stored.extend(chunk.stored)
        result.duplicates.extend(chunk.duplicates)
        result.rejected.extend(chunk.rejected)
    return result


def ingest_serialized(connection, body, secret=''):
    """Record the decoded JSON body Ceilometer's ``http://`` publisher posts.

    ``body`` must be a list of serialized events (the same dicts as in the
    dispatcher's messages). Each event that is malformed, or whose
    signature does not match ``secret`` when one is given, is rejected
    with a reason; the others are recorded. Raises InvalidBody when the
    body is not a list, and StorageError when the database fails.
    """
    if not isinstance(body, list):
        raise InvalidBody('the body must be a JSON array of events, got %s'
                          % wire.json_type(body))
    events, rejected = wire.parse_events(body, secret)
    return record(connection, events, rejected)
