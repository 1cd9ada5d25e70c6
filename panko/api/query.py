"""The query model: what a request asks for, as storage filters.

``event_filter`` turns the ``q`` filters of a request into a storage
EventFilter, ``pagination`` turns ``limit``, ``sort`` and ``marker`` into
a storage Pagination, and both name the offending parameter in a 400
when the input is bad. The ownership restriction is not theirs: rbac.py
adds it to the filter.
"""

from oslo_utils import strutils
import webob.exc
from wsme import types as wtypes

from panko import safe_text
from panko.api import errors
from panko.storage import models

OPERATORS = models.TraitFilter.OPERATORS
TRAIT_TYPES = ('string', 'integer', 'float', 'datetime')
#: Fields that are not traits, with the one operator each allows.
FIELD_OPERATORS = {
    'event_type': 'eq',
    'message_id': 'eq',
    'start_timestamp': 'ge',
    'end_timestamp': 'le',
    'all_tenants': 'eq',
}


def event_filter(queries):
    """``(EventFilter, all_tenants)`` for a list of ``q`` filters (Query).

    The ownership restriction is left unset: it is the RBAC module's.
    """
    result = models.EventFilter()
    all_tenants = False
    for position, query in enumerate(queries or []):
        field = query.field
        if not field:
            raise errors.InvalidFilter('q.field is missing in filter %d'
                                       % (position + 1))
        if query.value in (None, wtypes.Unset):
            raise errors.InvalidFilter('q.value is missing in filter %s'
                                       % safe_text.brief(field))
        if field in FIELD_OPERATORS:
            _check_operator(query, (FIELD_OPERATORS[field],))
            if field == 'all_tenants':
                all_tenants = _convert(query, 'boolean',
                                       _strict_boolean)
            elif field in ('start_timestamp', 'end_timestamp'):
                setattr(result, field,
                        _convert(query, 'datetime',
                                 models.normalize_datetime))
            else:
                setattr(result, field, query.value)
        else:
            result.traits_filter.append(_trait_filter(query))
    return result, all_tenants


def _trait_filter(query):
    _check_operator(query, OPERATORS)
    type_name = query.type or 'string'
    if type_name not in TRAIT_TYPES:
        raise errors.InvalidFilter(
            'q.type: the data type %s of filter %s is not supported; the '
            'supported types are %s'
            % (safe_text.brief(type_name), safe_text.brief(query.field),
               ', '.join(TRAIT_TYPES)))
    dtype = models.Trait.type_from_name(type_name)
    value = _convert(query, type_name,
                     lambda value: _storable(
                         models.Trait.convert_value(dtype, value)))
    return models.TraitFilter(name=query.field, value=value, dtype=dtype,
                              op=query.op)


#: The range of the integer columns of every storage engine.
INT64_RANGE = range(-2 ** 63, 2 ** 63)


def _storable(value):
    """A filter value every engine can compare with: an integer beyond 64
    bits is a ValueError (PostgreSQL's "bigint out of range")."""
    if type(value) is int and value not in INT64_RANGE:
        raise ValueError('beyond the range of 64-bit integers')
    return value


def _check_operator(query, allowed):
    if query.op not in allowed:
        raise errors.InvalidFilter(
            'q.op: operator %s is not supported for field %s; use %s'
            % (safe_text.brief(query.op), safe_text.brief(query.field),
               ' or '.join(allowed)))


def _convert(query, type_name, converter):
    try:
        return converter(query.value)
    except (ValueError, TypeError, OverflowError):
        raise errors.InvalidFilter(
            'Unable to convert the value %s to the expected data type %s '
            '(q.value of filter %s)'
            % (safe_text.brief(query.value), type_name,
               safe_text.brief(query.field)))


def _strict_boolean(value):
    return strutils.bool_from_string(value, strict=True)


def pagination(conf, limit=None, sort=None, marker=None):
    """The storage Pagination for a listing's parameters."""
    if limit is None:
        limit = conf.api.default_api_return_limit
    elif limit <= 0:
        raise errors.InvalidInput('limit', limit,
                                  'it must be a positive integer')
    return models.Pagination(
        limit=min(limit, conf.api.max_api_return_limit),
        marker=marker,
        sort=[_sort_key(item) for item in sort or []])


def _sort_key(item):
    if not isinstance(item, str):  # null, in a JSON body
        item = ''
    key, _, direction = item.partition(':')
    direction = direction or 'asc'
    if (key not in models.Pagination.SORT_KEYS
            or direction not in models.Pagination.SORT_DIRS):
        raise errors.InvalidInput(
            'sort', item, 'give key:direction with key %s and direction %s'
            % (' or '.join(models.Pagination.SORT_KEYS),
               ' or '.join(models.Pagination.SORT_DIRS)))
    return key, direction


def parse_boolean_parameter(name, value):
    """A boolean query parameter such as ``all_tenants=True``."""
    if value is None:
        return False
    try:
        return _strict_boolean(value)
    except ValueError:
        raise errors.InvalidInput(name, value, 'it must be true or false')


def check_filter_parameters(params):
    """Reject ``q.*`` query parameters that do not add up to filters.

    WSME pairs the n-th ``q.op``, ``q.value`` and ``q.type`` with the n-th
    ``q.field``, and fails with an internal error when there are more of
    them than fields; this turns that case into a 400.
    """
    if 'q' in params:
        # WSME would try to build a filter from the bare text.
        raise webob.exc.HTTPBadRequest(json_body={
            'faultstring': 'q is given as q.field, q.op, q.value and '
                           'q.type parameters, or in a JSON body'})
    fields = len(params.getall('q.field'))
    for attribute in ('op', 'value', 'type'):
        count = len(params.getall('q.' + attribute))
        if count > fields:
            raise webob.exc.HTTPBadRequest(json_body={
                'faultstring': 'q.%s is given %d times for %d q.field: '
                               'each filter needs its own q.field'
                               % (attribute, count, fields)})
