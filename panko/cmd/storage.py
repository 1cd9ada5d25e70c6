"""panko-dbsync and panko-expirer."""

from oslo_log import log

from panko import service
from panko import storage
from panko.storage import retention

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
    """Delete expired events: by the retention rules, else by the TTL."""
    conf = service.prepare_service()
    try:
        rules = retention.from_config(conf)
    except retention.InvalidRules as e:
        raise SystemExit('Invalid retention rules: %s' % e)
    ttl = conf.database.event_time_to_live
    if retention.keeps_everything(rules, ttl):
        LOG.info('Nothing to clean: event_time_to_live is %d and no '
                 'retention rule expires events, so events are kept '
                 'forever', ttl)
        return
    _connect(conf).clear_expired_data(
        ttl, conf.database.events_delete_batch_size, rules)
