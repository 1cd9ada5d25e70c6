#!/usr/bin/env python3
"""Load the sample notifications of etc/panko/samples into a store.

Each sample is a raw OpenStack notification as a service emits it; it goes
through panko's own normalization (etc/panko/event_definitions.yaml), as
the dispatcher would do with ``raw_notifications`` on, and the events are
recorded in the store of the given configuration. The samples are dated
over the last hours, so that time filters have something to show.

The samples come from several projects. ``--owner-project`` and
``--owner-user`` give every event one owner instead (its project_id,
tenant_id and user_id traits; the raw notification is kept as sent), so
that this identity sees them all without ``all_tenants``.

Usage: load_samples.py --config-file panko.conf
                       [--owner-project P --owner-user U]
"""

import dataclasses
import datetime
import glob
import json
import os
import sys
import uuid

from oslo_config import cfg
from oslo_utils import timeutils

from panko import service
from panko import storage
from panko.ingestion import definitions
from panko.storage import models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, 'etc', 'panko', 'samples', '*.json')
DEFINITIONS = os.path.join(ROOT, 'etc', 'panko', 'event_definitions.yaml')
CLI_OPTS = [
    cfg.StrOpt('owner-project',
               help='Make this project the owner of every sample event.'),
    cfg.StrOpt('owner-user',
               help='Make this user the owner of every sample event.'),
]


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


def owned(event, project_id, user_id):
    """``event`` with the owner traits the API's ownership checks read."""
    owner = {'project_id': project_id, 'tenant_id': project_id,
             'user_id': user_id}
    owner = {name: value for name, value in owner.items() if value}
    traits = [trait for trait in event.traits if trait.name not in owner]
    traits += [models.Trait(name, models.Trait.TEXT_TYPE, value)
               for name, value in owner.items()]
    return dataclasses.replace(event, traits=traits)


def main():
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(CLI_OPTS)
    service.prepare_service(sys.argv[1:], conf=conf)
    normalizer = definitions.Normalizer.from_file(DEFINITIONS,
                                                  store_raw='all')
    events = [normalizer.to_event(notification,
                                  notification['priority'].lower())
              for notification in notifications(timeutils.utcnow())]
    events = [owned(event, conf.owner_project, conf.owner_user)
              for event in events if event is not None]
    connection = storage.get_connection_from_config(conf)
    result = connection.record_events(events)
    print('Sample events: %d stored, %d already there, %d rejected'
          % (len(result.stored), len(result.duplicates),
             len(result.rejected)))


if __name__ == '__main__':
    main()
