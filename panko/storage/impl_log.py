"""A driver that logs events and keeps none: for testing pipelines.

Dead letters are logged too, scrubbed of credentials and escaped as the
other drivers store them, and kept nowhere.
"""

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

    def _delete_expired_events(self, selector, limit):
        return None  # it keeps no event, so none is left to expire

    def _delete_unused_event_types(self):
        return 0

    def record_dead_letters(self, letters):
        for letter in letters:
            fields = base.dead_letter_fields(letter)
            LOG.warning('Dropping dead letter from the %(door)s (%(kind)s '
                        '%(message_id)s): %(reason)s. Payload%(cut)s: '
                        '%(payload)s',
                        dict(fields, cut=(' (truncated)'
                                          if fields['truncated'] else '')))

    def get_dead_letters(self, limit=None, after_id=None, door=None):
        return []

    def count_dead_letters(self, door=None):
        return 0

    def update_dead_letter_reason(self, letter_id, reason):
        pass

    def delete_dead_letters(self, ids=None):
        return 0
