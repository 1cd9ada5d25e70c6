"""panko-dbsync and panko-expirer."""

from oslo_log import log

from panko import service
from panko import storage

LOG = log.getLogger(__name__)


def dbsync():
    """Create the schema, or migrate any older one (Panko 10's too)."""
    conf = service.prepare_service()
    storage.get_connection_from_config(conf).upgrade()


def expirer():
    """Delete the events older than [database] event_time_to_live."""
    conf = service.prepare_service()
    ttl = conf.database.event_time_to_live
    if ttl <= 0:
        LOG.info('Nothing to clean: event_time_to_live is %d, so events '
                 'are kept forever', ttl)
        return
    connection = storage.get_connection_from_config(conf)
    connection.clear_expired_data(
        ttl, conf.database.events_delete_batch_size)
