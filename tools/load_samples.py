#!/usr/bin/env python3
"""Load the sample notifications of etc/panko/samples into a store.

Each sample is a raw OpenStack notification as a service emits it; it goes
through panko's own normalization (etc/panko/event_definitions.yaml), as
the dispatcher would do with ``raw_notifications`` on, and the events are
recorded in the store of the given configuration. The samples are dated
over the last hours, so that time filters have something to show.

Usage: load_samples.py --config-file panko.conf
"""

import datetime
import glob
import json
import os
import sys
import uuid

from oslo_utils import timeutils

from panko import service
from panko import storage
from panko.ingestion import definitions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, 'etc', 'panko', 'samples', '*.json')
DEFINITIONS = os.path.join(ROOT, 'etc', 'panko', 'event_definitions.yaml')


def notifications(now):
    """The samples as oslo.messaging hands notifications over."""
    paths = sorted(glob.glob(SAMPLES))
    for position, path in enumerate(paths):
        with open(path) as f:
            sample = json.load(f)
        name = os.path.basename(path)
        sent = now - datetime.timedelta(minutes=7 * (len(paths) - position))
        sample['metadata'] = {
            'message_id': str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            'timestamp': sent.isoformat(sep=' '),
        }
        yield sample


def main():
    conf = service.prepare_service(sys.argv[1:])
    normalizer = definitions.Normalizer.from_file(DEFINITIONS,
                                                  store_raw='all')
    events = [normalizer.to_event(notification,
                                  notification['priority'].lower())
              for notification in notifications(timeutils.utcnow())]
    connection = storage.get_connection_from_config(conf)
    result = connection.record_events([e for e in events if e is not None])
    print('Sample events: %d stored, %d already there, %d rejected'
          % (len(result.stored), len(result.duplicates),
             len(result.rejected)))


if __name__ == '__main__':
    main()
