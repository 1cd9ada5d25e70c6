"""A driver that logs events and keeps none: for testing pipelines."""

from oslo_log import log

from panko.storage import base
from panko.storage import models

LOG = log.getLogger(__name__)


class Connection(base.Connection):

    def upgrade(self):
        pass

    def clear(self):
        pass

    def record_events(self, events):
        result = models.RecordResult()
        for event in events:
            LOG.info('Dropping event %s (%s)', event.message_id,
                     event.event_type)
            result.stored.append(event.message_id)
        return result

    def get_events(self, event_filter, pagination=None, raw_as_json=False):
        return []

    def get_event_types(self):
        return []

    def get_trait_types(self, event_type):
        return []

    def get_traits(self, event_type, trait_name=None):
        return []

    def clear_expired_data(self, ttl, max_count=0):
        return 0
