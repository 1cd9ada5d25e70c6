"""The captured wire-contract fixtures and our sample notifications.

``panko/tests/contract-fixtures`` holds real messages of Ceilometer
captured on RabbitMQ (see its README.rst); ``etc/panko/samples`` holds
realistic raw notifications of the services.
"""

import glob
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'contract-fixtures')
SAMPLES = os.path.join(REPO, 'etc', 'panko', 'samples')
DEFINITIONS = os.path.join(REPO, 'etc', 'panko', 'event_definitions.yaml')
SECRET = 's3cr3t'


def fixture(name):
    with open(os.path.join(FIXTURES, name + '.json')) as f:
        return json.load(f)


def fixture_events(name):
    """The serialized events of a captured Ceilometer message."""
    return fixture(name)['decoded']['payload']


def samples():
    """{name: sample notification} of every file in etc/panko/samples."""
    result = {}
    for path in sorted(glob.glob(os.path.join(SAMPLES, '*.json'))):
        with open(path) as f:
            result[os.path.basename(path)[:-len('.json')]] = json.load(f)
    return result


def as_received(sample, message_id='m-1',
                timestamp='2026-11-25 03:07:10.216035'):
    """A sample as an oslo.messaging endpoint receives it."""
    return {'ctxt': sample['ctxt'], 'publisher_id': sample['publisher_id'],
            'event_type': sample['event_type'], 'payload': sample['payload'],
            'metadata': {'message_id': message_id, 'timestamp': timestamp}}
