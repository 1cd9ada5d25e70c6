"""Deterministic, realistic OpenStack events for the benchmarks.

Events come in blocks of ``BLOCK_SIZE``; block ``b`` of seed ``s`` is made
from a random generator seeded with ``"s:b"`` alone, so a seed always gives
the same events, the first K events of a run do not depend on how many are
asked for, and blocks can be made in parallel.

Each block is a set of resources (instances, identity sessions, volumes,
images, ports) whose 5 to 20 events each follow one lifecycle; the event
types that dominate real clouds (instance updates and exists, identity
authentications) dominate here. Owners are drawn from 200 projects and
1,000 users with Zipf-like activity; identity events have no project_id.
Timestamps spread over the 30 days from ``START``.
"""

import dataclasses
import datetime
import functools
import json
import random
import uuid

from panko.storage import models

BLOCK_SIZE = 1000
PROJECTS = 200
USERS = 1000
START = datetime.datetime(2026, 10, 1)
DAYS = 30
SPAN = datetime.timedelta(days=DAYS)

S = models.Trait.TEXT_TYPE
I = models.Trait.INT_TYPE  # noqa: E741
F = models.Trait.FLOAT_TYPE
D = models.Trait.DATETIME_TYPE

FLAVORS = [  # name, memory_mb, disk_gb, vcpus, rxtx_factor
    ('m1.tiny', 512, 1, 1, 1.0),
    ('m1.small', 2048, 20, 1, 1.0),
    ('m1.medium', 4096, 40, 2, 1.0),
    ('m1.large', 8192, 80, 4, 2.0),
    ('m1.xlarge', 16384, 160, 8, 2.0),
    ('r1.2xlarge', 32768, 160, 8, 4.0),
]
FLAVOR_WEIGHTS = [10, 30, 25, 20, 10, 5]
WORDS = ('alpha bravo charlie delta echo foxtrot golf hotel india juliet '
         'kilo lima mike november oscar papa quebec romeo sierra tango '
         'uniform victor whiskey xray yankee zulu web db cache worker '
         'batch front back api queue prod staging dev test blue green'
         ).split()
FILLER = ' '.join(random.Random(0).choices(WORDS, k=2000))


@dataclasses.dataclass
class Owner:
    user_id: str
    project_id: str


@dataclasses.dataclass
class Family:
    """A kind of resource: its service and the types of its events."""

    name: str
    service: str
    weight: int
    first: tuple
    middle: dict
    last: tuple


FAMILIES = [
    Family('instance', 'compute', 40,
           ('compute.instance.create.start', 'compute.instance.create.end'),
           {'compute.instance.update': 50, 'compute.instance.exists': 30,
            'compute.instance.power_off.start': 2,
            'compute.instance.power_off.end': 2,
            'compute.instance.power_on.start': 2,
            'compute.instance.power_on.end': 2,
            'compute.instance.reboot.start': 2,
            'compute.instance.reboot.end': 2,
            'compute.instance.resize.confirm.end': 1},
           ('compute.instance.delete.start', 'compute.instance.delete.end')),
    Family('identity', 'identity', 30, (),
           {'identity.authenticate.success': 90,
            'identity.authenticate.failure': 6,
            'identity.user.updated': 4}, ()),
    Family('volume', 'volume', 12,
           ('volume.create.start', 'volume.create.end'),
           {'volume.exists': 50, 'volume.attach.end': 20,
            'volume.detach.end': 15, 'volume.resize.end': 5},
           ('volume.delete.start', 'volume.delete.end')),
    Family('image', 'image', 6, ('image.create', 'image.upload'),
           {'image.update': 40, 'image.send': 60}, ('image.delete',)),
    Family('port', 'network', 12, ('port.create.end',),
           {'port.update.end': 70, 'floatingip.update.end': 30},
           ('port.delete.end',)),
]
FAMILY_WEIGHTS = [family.weight for family in FAMILIES]


def event_types():
    """Every event type the generator can produce."""
    return sorted({name for family in FAMILIES
                   for name in family.first + tuple(family.middle)
                   + family.last})


class Universe:
    """The users and projects of a seed, and who is most active."""

    def __init__(self, seed):
        rng = random.Random('%s:universe' % seed)
        self.projects = ['%032x' % rng.getrandbits(128)
                         for _ in range(PROJECTS)]
        project_weights = [1 / (rank + 1) for rank in range(PROJECTS)]
        owners = []
        for number in range(USERS):
            # Every project has a user; the rest join the busy ones.
            project = (number if number < PROJECTS else rng.choices(
                range(PROJECTS), project_weights)[0])
            owners.append(Owner('%032x' % rng.getrandbits(128),
                                self.projects[project]))
        # Users' activity is Zipf-like; user 0 is the busiest.
        self.owners = owners
        self.owner_weights = list(_cumulative(
            1 / (rank + 1) ** 0.9 for rank in range(USERS)))
        self.hosts = ['compute-%02d.example.org' % n for n in range(40)]

    def pick_owner(self, rng):
        return rng.choices(self.owners, cum_weights=self.owner_weights)[0]


def _cumulative(weights):
    total = 0
    for weight in weights:
        total += weight
        yield total


@functools.lru_cache(maxsize=8)
def universe(seed):
    return Universe(seed)


def generate(count, seed=0, first_block=0):
    """Yield ``count`` events of ``seed``, from block ``first_block`` on."""
    block = first_block
    while count > 0:
        events = make_block(seed, block)[:count]
        yield from events
        count -= len(events)
        block += 1


def make_block(seed, block):
    """The ``BLOCK_SIZE`` events of block ``block`` of ``seed``."""
    rng = random.Random('%s:%d' % (seed, block))
    world = universe(seed)
    events = []
    while len(events) < BLOCK_SIZE:
        events.extend(_resource_events(rng, world))
    return events[:BLOCK_SIZE]


def _resource_events(rng, world):
    family = rng.choices(FAMILIES, FAMILY_WEIGHTS)[0]
    count = rng.randint(5, 20)
    names = list(family.first)
    if family.last and rng.random() < 0.5:
        tail = list(family.last)
    else:
        tail = []
    middle = max(count - len(names) - len(tail), 0)
    names += rng.choices(list(family.middle), list(family.middle.values()),
                         k=middle)
    names = (names + tail)[:count]
    when = START + datetime.timedelta(
        seconds=rng.uniform(0, SPAN.total_seconds() - 86400))
    resource = _Resource(rng, world, family, when)
    events = []
    for name in names:
        events.append(resource.event(rng, name, when))
        when += datetime.timedelta(seconds=rng.expovariate(1 / 1800))
    return events


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class _Resource:
    """One resource's fixed attributes, from which its events are made."""

    def __init__(self, rng, world, family, created):
        self.family = family
        self.owner = world.pick_owner(rng)
        self.id = _uuid(rng)
        self.host = rng.choice(world.hosts)
        self.name = '%s-%s-%d' % (rng.choice(WORDS), rng.choice(WORDS),
                                  rng.randrange(100))
        self.created = created
        self.flavor = rng.choices(FLAVORS, FLAVOR_WEIGHTS)[0]
        self.size = rng.choice([1, 5, 10, 20, 50, 100, 500])

    def event(self, rng, event_type, when):
        traits = [('request_id', S, 'req-' + _uuid(rng)),
                  ('resource_id', S, self.id),
                  ('service', S, self.family.service),
                  ('host', S, self.host),
                  ('user_id', S, self.owner.user_id)]
        if self.family.name != 'identity':
            traits += [('project_id', S, self.owner.project_id),
                       ('tenant_id', S, self.owner.project_id)]
        traits += getattr(self, '_' + self.family.name)(rng, event_type,
                                                        when)
        message_id = _uuid(rng)
        return models.Event(
            message_id=message_id, event_type=event_type, generated=when,
            traits=[models.Trait(*trait) for trait in traits],
            raw=self._raw(rng, message_id, event_type, when, traits))

    def _instance(self, rng, event_type, when):
        flavor, memory_mb, disk_gb, vcpus, rxtx = self.flavor
        state = ('building' if 'create' in event_type
                 else 'deleted' if 'delete' in event_type
                 else 'stopped' if 'power_off' in event_type
                 else 'active')
        traits = [('instance_id', S, self.id),
                  ('display_name', S, self.name),
                  ('state', S, state),
                  ('instance_type', S, flavor),
                  ('memory_mb', I, memory_mb),
                  ('disk_gb', I, disk_gb),
                  ('vcpus', I, vcpus),
                  ('rxtx_factor', F, rxtx),
                  ('created_at', D, self.created)]
        if event_type != 'compute.instance.create.start':
            traits.append(('launched_at', D, self.created
                           + datetime.timedelta(seconds=40)))
        if event_type == 'compute.instance.update':
            traits.append(('progress', I, rng.choice([0, 25, 50, 100])))
        return traits

    def _identity(self, rng, event_type, when):
        failure = event_type.endswith('failure')
        return [('typeURI', S, 'http://schemas.dmtf.org/cloud/audit/1.0/'
                               'event'),
                ('id', S, _uuid(rng)),
                ('action', S, 'authenticate'),
                ('eventType', S, 'activity'),
                ('outcome', S, 'failure' if failure else 'success'),
                ('initiator_id', S, self.owner.user_id),
                ('initiator_host_addr', S, '10.%d.%d.%d' % (
                    rng.randrange(256), rng.randrange(256),
                    rng.randrange(256))),
                ('observer_id', S, 'target'),
                ('reason_code', I, 401 if failure else 200),
                ('eventTime', D, when)]

    def _volume(self, rng, event_type, when):
        return [('volume_id', S, self.id),
                ('display_name', S, self.name),
                ('status', S, 'available' if 'create' in event_type
                 else 'in-use'),
                ('availability_zone', S, 'nova'),
                ('volume_type', S, 'lvmdriver-1'),
                ('size', I, self.size),
                ('replication_status', S, 'disabled'),
                ('created_at', D, self.created),
                ('launched_at', D, self.created
                 + datetime.timedelta(seconds=5))]

    def _image(self, rng, event_type, when):
        return [('name', S, self.name),
                ('status', S, 'active'),
                ('disk_format', S, 'qcow2'),
                ('container_format', S, 'bare'),
                ('size', I, self.size * 1024 ** 3),
                ('min_disk', I, self.size),
                ('min_ram', I, 0),
                ('virtual_size', F, self.size * 1.25),
                ('created_at', D, self.created),
                ('updated_at', D, when)]

    def _port(self, rng, event_type, when):
        return [('name', S, self.name),
                ('status', S, 'ACTIVE'),
                ('device_owner', S, 'compute:nova'),
                ('mac_address', S, 'fa:16:3e:%02x:%02x:%02x' % (
                    rng.randrange(256), rng.randrange(256),
                    rng.randrange(256))),
                ('mtu', I, 1450),
                ('revision_number', I, rng.randrange(1, 20)),
                ('created_at', D, self.created),
                ('updated_at', D, when)]

    def _raw(self, rng, message_id, event_type, when, traits):
        """The notification as the service sent it: 1 to 2 KB of JSON."""
        payload = {name: (value.isoformat() if isinstance(
            value, datetime.datetime) else value)
            for name, _, value in traits}
        context = {'user': self.owner.user_id,
                   'project_id': self.owner.project_id,
                   'request_id': payload['request_id'],
                   'roles': ['member', 'reader'], 'is_admin': False,
                   'read_only': False, 'show_deleted': False,
                   'auth_token': None, 'global_request_id': None}
        raw = {'ctxt': context,
               'publisher_id': '%s.%s' % (self.family.service, self.host),
               'event_type': event_type, 'priority': 'INFO',
               'payload': payload,
               'metadata': {'message_id': message_id,
                            'timestamp': when.isoformat()}}
        target = rng.randint(1024, 2048)
        room = target - len(json.dumps(raw)) - 20
        if room > 0:
            start = rng.randrange(len(FILLER) - room)
            payload['description'] = FILLER[start:start + room]
        return raw
