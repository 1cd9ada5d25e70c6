"""panko-dbsync and panko-expirer."""

from oslo_log import log

from panko import service
from panko import storage

LOG = log.getLogger(__name__)


def _connect(conf):
    try:
        return storage.get_connection_from_config(conf)
    except storage.StorageError as e:
        raise SystemExit('Cannot reach the event store: %s' % e)


def dbsync():
    """Create the schema, or migrate any older one (Panko 10's too)."""
    conf = service.prepare_service()
    _connect(conf).upgrade()


def expirer():
    """Delete the events older than [database] event_time_to_live."""
    conf = service.prepare_service()
    ttl = conf.database.event_time_to_live
    if ttl <= 0:
        LOG.info('Nothing to clean: event_time_to_live is %d, so events '
                 'are kept forever', ttl)
        return
    _connect(conf).clear_expired_data(
        ttl, conf.database.events_delete_batch_size)
