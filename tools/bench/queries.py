"""The standard query set, Q1 to Q10 and Q1p, and how to time it.

Each query is described once, as the HTTP request a client sends to the
v2 API; ``storage_call`` turns the same description into the storage
driver call the API makes for it (same EventFilter and Pagination, with
the access restriction the default policy gives the caller), so that the
storage can be measured on its own.

The parameters (which project, user, resource, message_id) come from the
generator: they are the same for every store size and point at data every
store of 1,000 events or more holds.
"""

import collections
import dataclasses
import datetime
import math
import statistics
import threading
import time

from bench import generator
from panko.api import rbac
from panko.storage import models

WARMUPS = 2
RUNS = 20
PAGE = 100
THREADS = 8
SECONDS = 10
ADMIN_USER = 'bench-admin'


@dataclasses.dataclass
class Identity:
    user_id: str
    project_id: str
    admin: bool

    def headers(self):
        return {'X-User-Id': self.user_id, 'X-Project-Id': self.project_id,
                'X-Roles': 'admin' if self.admin else 'member'}


@dataclasses.dataclass
class Query:
    name: str
    title: str
    identity: Identity
    path: str = '/v2/events'
    #: (field, op, value, type) as the API's q.* parameters.
    filters: list = dataclasses.field(default_factory=list)
    sort: list = dataclasses.field(default_factory=list)
    limit: int = None
    marker: str = None

    def params(self):
        """The query string, filters as repeated q.* parameters.

        The parameters of the n-th filter are the n-th q.field, q.op,
        q.value and q.type, so filters with a type come first: those
        without one then get no q.type, whatever the server's pairing.
        """
        params = []
        typed_first = sorted(self.filters, key=lambda f: f[3] is None)
        for field, op, value, type_name in typed_first:
            params += [('q.field', field), ('q.op', op), ('q.value', value)]
            if type_name:
                params.append(('q.type', type_name))
        params += [('sort', sort) for sort in self.sort]
        if self.limit:
            params.append(('limit', str(self.limit)))
        if self.marker:
            params.append(('marker', self.marker))
        return params


def standard_set(seed, marker_for):
    """The query set for a seed.

    ``marker_for(query, pages)`` runs ``query`` and returns the
    message_id that ends its ``pages``-th page (for Q10).
    """
    world = generator.universe(seed)
    block = generator.make_block(seed, 0)
    member_owner = world.owners[0]
    top_project = member_owner.project_id
    admin = Identity(ADMIN_USER, top_project, True)
    member = Identity(member_owner.user_id, member_owner.project_id, False)
    resource = _resource_with_about(block, 10)
    shown = next(event for event in block if event.trait('project_id'))
    shown_owner = Identity(shown.trait('user_id').value,
                           shown.trait('project_id').value, False)
    day = generator.START + datetime.timedelta(days=15)
    all_tenants = ('all_tenants', 'eq', 'True', None)
    descending = Query('Q10', 'page 3 of a generated:desc listing, by '
                       'marker', admin, filters=[all_tenants],
                       sort=['generated:desc'], limit=PAGE)
    descending.marker = marker_for(descending, 2)
    return [
        Query('Q1', 'default page, admin, all_tenants', admin,
              filters=[all_tenants]),
        Query('Q1p', 'default page, admin scoped to a project', admin),
        Query('Q2', 'event_type equality', admin,
              filters=[all_tenants, ('event_type', 'eq',
                                     'compute.instance.exists', None)]),
        Query('Q3', 'resource_id trait equality (about 10 events)', admin,
              filters=[all_tenants,
                       ('resource_id', 'eq', resource, 'string')]),
        Query('Q4', 'one-day window + project_id trait', admin,
              filters=[all_tenants,
                       ('start_timestamp', 'ge', day.isoformat(), None),
                       ('end_timestamp', 'le',
                        (day + datetime.timedelta(days=1)).isoformat(),
                        None),
                       ('project_id', 'eq', top_project, 'string')]),
        Query('Q5', 'memory_mb > 4096 + event_type', admin,
              filters=[all_tenants,
                       ('event_type', 'eq', 'compute.instance.exists', None),
                       ('memory_mb', 'gt', '4096', 'integer')]),
        Query('Q6', "one event by message_id (as its project's member)",
              shown_owner, path='/v2/events/%s' % shown.message_id),
        Query('Q7', 'event types', admin, path='/v2/event_types'),
        Query('Q8', 'trait descriptions of an event type', admin,
              path='/v2/event_types/compute.instance.update/traits'),
        Query('Q9', "a member's default page", member),
        descending,
    ]


def _resource_with_about(events, count):
    counts = collections.Counter(event.trait('resource_id').value
                                 for event in events)
    return min(counts, key=lambda resource: abs(counts[resource] - count))


# Storage calls equal to what the API does for a query.

_TYPES = {'string': models.Trait.TEXT_TYPE,
          'integer': models.Trait.INT_TYPE,
          'float': models.Trait.FLOAT_TYPE,
          'datetime': models.Trait.DATETIME_TYPE}


def storage_call(connection, query):
    """A function running ``query`` through the storage driver."""
    if query.path == '/v2/event_types':
        return connection.get_event_types
    if query.path.endswith('/traits'):
        event_type = query.path.split('/')[3]
        return lambda: connection.get_trait_types(event_type)
    event_filter, pagination = _filter_and_pagination(query)
    return lambda: connection.get_events(event_filter, pagination)


def _filter_and_pagination(query):
    event_filter = models.EventFilter()
    all_tenants = False
    for field, op, value, type_name in query.filters:
        if field == 'all_tenants':
            all_tenants = value == 'True'
        elif field in ('event_type', 'message_id'):
            setattr(event_filter, field, value)
        elif field in ('start_timestamp', 'end_timestamp'):
            setattr(event_filter, field,
                    datetime.datetime.fromisoformat(value))
        else:
            dtype = _TYPES[type_name or 'string']
            event_filter.traits_filter.append(models.TraitFilter(
                field, models.Trait.convert_value(dtype, value), dtype, op))
    if query.path.startswith('/v2/events/'):
        event_filter.message_id = query.path.rsplit('/', 1)[1]
    identity = query.identity
    # The default policy: only admins pass the segregation rule.
    restriction = rbac.owner_restriction(identity.project_id,
                                         identity.user_id, identity.admin,
                                         all_tenants)
    for field, value in restriction.items():
        setattr(event_filter, field, value)
    sort = [tuple(item.split(':')) for item in query.sort]
    pagination = models.Pagination(limit=query.limit or PAGE,
                                   marker=query.marker, sort=sort)
    return event_filter, pagination


# Timing.

def measure(call):
    """Run ``call`` WARMUPS + RUNS times; p50, p95 in ms and the count."""
    for _ in range(WARMUPS):
        call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return {'p50_ms': round(statistics.median(times), 1),
            'p95_ms': round(percentile(times, 95), 1),
            'results': len(result)}


def percentile(values, rank):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(rank / 100 * len(ordered)) - 1, 0)]


def throughput(make_call):
    """Calls per second from THREADS clients for SECONDS.

    ``make_call()`` gives each client its own function to call (its own
    HTTP connection, for instance).
    """
    done = []
    deadline = time.perf_counter() + SECONDS

    def client():
        call = make_call()
        count = 0
        while time.perf_counter() < deadline:
            call()
            count += 1
        done.append(count)

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {'client': 'python threads', 'clients': THREADS,
            'seconds': SECONDS,
            'requests_per_second': round(sum(done) / SECONDS, 1)}
