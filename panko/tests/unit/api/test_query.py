"""The query model: API filters and paging to storage filters."""

import datetime

import pytest
import wsme

from panko.api import errors
from panko.api import query
from panko.api.controllers.v2 import base
from panko.storage import models
from panko.tests import backends

T = models.Trait


def q(field, value, op=None, type=None):
    fields = {'field': field, 'value': value}
    if op is not None:
        fields['op'] = op
    if type is not None:
        fields['type'] = type
    return base.Query(**fields)


class TestEventFilter:

    def test_nothing_restricts_nothing(self):
        assert query.event_filter(None) == (models.EventFilter(), False)

    def test_fields_and_traits(self):
        event_filter, all_tenants = query.event_filter([
            q('event_type', 'compute.instance.update'),
            q('message_id', 'm1'),
            q('start_timestamp', '2026-03-01T12:00:00+01:00', 'ge'),
            q('end_timestamp', '2026-03-02T00:00:00', 'le'),
            q('memory_mb', '512', 'gt', 'integer'),
            q('load', '0.5', 'lt', 'float'),
            q('launched_at', '2026-03-01T10:00:00Z', 'ne', 'datetime'),
            q('host', 'compute-1', type=''),
            q('all_tenants', 'True'),
        ])
        assert all_tenants is True
        assert event_filter == models.EventFilter(
            event_type='compute.instance.update',
            message_id='m1',
            start_timestamp=datetime.datetime(2026, 3, 1, 11, 0),
            end_timestamp=datetime.datetime(2026, 3, 2, 0, 0),
            traits_filter=[
                models.TraitFilter('memory_mb', 512, T.INT_TYPE, 'gt'),
                models.TraitFilter('load', 0.5, T.FLOAT_TYPE, 'lt'),
                models.TraitFilter('launched_at',
                                   datetime.datetime(2026, 3, 1, 10, 0),
                                   T.DATETIME_TYPE, 'ne'),
                models.TraitFilter('host', 'compute-1', T.TEXT_TYPE, 'eq'),
            ])

    def test_the_restriction_is_left_to_rbac(self):
        event_filter, _ = query.event_filter([q('project_id', 'p1')])
        assert event_filter.project_id is None
        assert event_filter.traits_filter == [
            models.TraitFilter('project_id', 'p1')]

    @pytest.mark.parametrize('bad, message', [
        (q('memory_mb', 'x', type='integer'),
         'Unable to convert the value x to the expected data type integer'),
        (q('all_tenants', 'yes please'),
         'Unable to convert the value yes please to the expected data '
         'type boolean'),
        (q('event_type', 'x', 'ge'), 'q.op: operator ge'),
        (q('x', '1', 'like'), 'q.op: operator like'),
        (q('x', '1', type='text'), 'q.type: the data type text'),
        (q('', '1'), 'q.field is missing'),
        (base.Query(field='x'), 'q.value is missing in filter x'),
    ])
    def test_bad_filters(self, bad, message):
        with pytest.raises(errors.InvalidFilter) as error:
            query.event_filter([bad])
        assert message in str(error.value)


@pytest.fixture(scope='module')
def conf():
    return backends.make_conf(api__default_api_return_limit=20,
                              api__max_api_return_limit=50)


class TestPagination:

    def test_defaults(self, conf):
        assert query.pagination(conf) == models.Pagination(limit=20)

    def test_limit_is_capped(self, conf):
        assert query.pagination(conf, limit=500).limit == 50

    def test_sort_and_marker(self, conf):
        page = query.pagination(conf, 5, ['generated:desc', 'message_id'],
                                'm1')
        assert page == models.Pagination(
            limit=5, marker='m1',
            sort=[('generated', 'desc'), ('message_id', 'asc')])

    @pytest.mark.parametrize('limit', [0, -1])
    def test_limit_must_be_positive(self, conf, limit):
        with pytest.raises(wsme.exc.InvalidInput) as error:
            query.pagination(conf, limit)
        assert error.value.fieldname == 'limit'

    @pytest.mark.parametrize('sort', ['raw:asc', 'generated:sideways',
                                      ':asc'])
    def test_bad_sort(self, conf, sort):
        with pytest.raises(wsme.exc.InvalidInput) as error:
            query.pagination(conf, sort=[sort])
        assert error.value.fieldname == 'sort'
