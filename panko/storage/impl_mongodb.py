"""The MongoDB driver: a replica set or a sharded cluster.

One document per event, in the ``event`` collection::

    {'_id': message_id,
     'event_type': 'compute.instance.update',
     'generated': 1772366400123456,     # microseconds since the epoch
     'generated_date': ISODate(...),    # the same, to the millisecond
     'project_id': 'p1' or None,        # copies of the string traits,
     'user_id': 'u1' or None,           # for the access restriction
     'traits': [{'n': name, 't': type, 'v': value}, ...],
     'raw': '{"the": "notification, as JSON text"}'}

Why this shape:

* ``_id`` is the message_id, so a duplicate is refused by the one index
  every collection has, and an event is one atomic write: a batch cut
  short never leaves half an event behind.
* BSON dates keep milliseconds only; ``generated`` and datetime trait
  values are integers of microseconds so that the round trip is exact and
  events a microsecond apart sort correctly. ``generated_date`` exists
  for the TTL index alone (TTL indexes need a date).
* ``traits`` is an array of ``{n, t, v}`` covered by one compound
  multikey index on (n, t, v): a filter on any trait name, of any type,
  with any operator is an ``$elemMatch`` whose bounds are the name, the
  type and the value range. The type is part of the key because BSON
  compares numbers of different types as equal, while a trait filter
  must only match traits of its own type.
* ``project_id`` and ``user_id`` repeat the string traits of the same
  names (None when absent), as the SQL driver's columns do, so that the
  restriction every API query carries is an indexed equality, and so
  that ``project_id`` can lead the shard key (see doc/source/mongodb.rst).
* ``raw`` is JSON text: the notification is never queried, and text keeps
  any JSON exactly (keys holding ``.`` or ``$``, integers beyond 64 bits).

The ``trait_type`` collection summarises the traits of each event type
so that describing them does not read every event of the type; event
types are the distinct values of the ``event_type`` index.

Dead letters are documents of the ``dead_letter`` collection, with the
fields of the SQL table (``created_at`` in microseconds, ``payload`` as
JSON text) and an integer ``_id`` taken from a counter in the ``counter``
collection, so that ids grow in the order letters are recorded and are
never reused. A batch of letters is one ordered insert_many: MongoDB has
no transaction across documents without a replica set, so should it fail
midway, the first letters stay stored and come again with the retry.
"""

import contextlib
import datetime
import json
import time

import bson
from oslo_log import log
import pymongo
from pymongo import errors

from panko import safe_text
from panko import storage
from panko.storage import base
from panko.storage import models

LOG = log.getLogger(__name__)

EPOCH = datetime.datetime(1970, 1, 1)

#: The sort keys of a listing, as document fields.
SORT_FIELDS = {'generated': 'generated', 'message_id': '_id'}

#: Largest document MongoDB stores; a bigger event is rejected, not sent,
#: because one oversized document would abort the whole bulk insert.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

#: Duplicate key: the only write error that is not a failure.
DUPLICATE_KEY = 11000
#: Write errors that pass: out of time, interrupted, shutting down, not
#: (or no longer) the primary.
TRANSIENT_CODES = frozenset((50, 91, 189, 262, 10107, 11600, 11602,
                             13435, 13436))

#: Seconds a process trusts its memory of the recorded trait types: the
#: expirer of another process may remove those of an event type that ran
#: out of events, and the type may come back.
TRAIT_TYPE_CACHE_SECONDS = 600

TTL_INDEX = 'event_ttl'

#: Every index but the TTL one, which follows [database]
#: event_time_to_live. The listing orders (generated, _id), alone and
#: behind event type and project, let a page be read in index order and
#: stop after ``limit`` documents; "project P or no project" is an $in
#: on the project index that the server merges in that order.
EVENT_INDEXES = [
    pymongo.IndexModel([('generated', 1), ('_id', 1)],
                       name='event_generated'),
    pymongo.IndexModel([('event_type', 1), ('generated', 1), ('_id', 1)],
                       name='event_type_generated'),
    pymongo.IndexModel([('project_id', 1), ('generated', 1), ('_id', 1)],
                       name='event_project_generated'),
    pymongo.IndexModel([('traits.n', 1), ('traits.t', 1), ('traits.v', 1)],
                       name='event_traits'),
]
DEAD_LETTER_INDEXES = [
    pymongo.IndexModel([('door', 1), ('_id', 1)], name='dead_letter_door'),
]
TRAIT_TYPE_INDEXES = [
    pymongo.IndexModel([('event_type', 1), ('name', 1), ('type', 1)],
                       name='trait_type_key', unique=True),
]

_OPERATORS = {'lt': '$lt', 'le': '$lte', 'eq': '$eq', 'ne': '$ne',
              'ge': '$gte', 'gt': '$gt'}


def to_micros(moment):
    """A naive UTC datetime as an integer of microseconds since 1970."""
    delta = moment - EPOCH
    return ((delta.days * 86400 + delta.seconds) * 1000000
            + delta.microseconds)


def from_micros(micros):
    return EPOCH + datetime.timedelta(microseconds=micros)


def _stored_value(dtype, value):
    if dtype == models.Trait.DATETIME_TYPE:
        return to_micros(models.normalize_datetime(value))
    return value


def _trait_from_element(element):
    dtype, value = element['t'], element['v']
    if dtype == models.Trait.DATETIME_TYPE:
        value = from_micros(value)
    return models.Trait(element['n'], dtype, value)


def _sort_key_query(comparisons):
    """(key, op, value) comparisons of sort keys as one query document."""
    return {SORT_FIELDS[key]: value if op == 'eq' else {_OPERATORS[op]: value}
            for key, op, value in comparisons}


def _duplicate_key_errors(bulk_error):
    """The write errors of a bulk write, when all are duplicate keys.

    An unmet write concern, or a server that is stepping down or out of
    time, means part of the batch may be missing or not durable:
    StorageUnavailable, so that the caller retries, which is safe since
    what was stored comes back as duplicates. Any other write error is
    the data's: UnstorableEvents, so that the caller isolates it.
    """
    details = bulk_error.details
    write_errors = details.get('writeErrors', [])
    failures = [error for error in write_errors
                if error['code'] != DUPLICATE_KEY]
    passing = details.get('writeConcernErrors', []) + [
        error for error in failures if error['code'] in TRANSIENT_CODES]
    if passing:
        raise storage.StorageUnavailable(
            'MongoDB did not store the whole batch: %s'
            % safe_text.brief(passing[0].get('errmsg'), 300)
        ) from bulk_error
    if failures:
        raise storage.UnstorableEvents(
            'MongoDB refused an event: %s'
            % safe_text.brief(failures[0].get('errmsg'), 300)
        ) from bulk_error
    return write_errors


class Connection(base.Connection):
    CAPABILITIES = {'events': {'query': {'simple': True}}}
    STORAGE_CAPABILITIES = {'storage': {'production_ready': True}}

    def __init__(self, conf, url, query_timeout=0):
        super().__init__(conf, url, query_timeout)
        #: maxTimeMS of every read: the server stops a query after it.
        self._max_time_ms = round(query_timeout * 1000) or None
        with self._errors():
            try:
                # Looked up at call time, so tests can substitute mongomock.
                self._client = pymongo.MongoClient(url)
            except ValueError as e:
                raise storage.StorageError(
                    'invalid MongoDB URL: %s' % e) from e
            self._db = self._client.get_default_database('panko')
            self._db.command('ping')
        self._events = self._db['event']
        self._trait_types = self._db['trait_type']
        self._dead_letters = self._db['dead_letter']
        self._counters = self._db['counter']
        self._known_trait_types = set()
        self._trait_types_since = time.monotonic()
        self._warn_if_ttl_differs()

    @staticmethod
    @contextlib.contextmanager
    def _errors():
        """Run database calls with their failures as storage errors.

        Losing the server (or the primary) is StorageUnavailable, so that
        callers retry; retrying a batch is safe, as the events already
        stored come back as duplicates.
        """
        try:
            yield
        except errors.ConnectionFailure as e:
            raise storage.StorageUnavailable(
                'MongoDB unavailable: %s' % e) from e
        except errors.ExecutionTimeout as e:
            raise storage.QueryTimeout(
                'MongoDB stopped a query: %s' % e) from e
        except errors.PyMongoError as e:
            raise storage.StorageError('MongoDB error: %s' % e) from e

    # Schema

    def upgrade(self):
        """Create the indexes and set the TTL; safe to run again."""
        with self._errors():
            self._refuse_foreign_events()
            self._events.create_indexes(EVENT_INDEXES)
            self._trait_types.create_indexes(TRAIT_TYPE_INDEXES)
            self._dead_letters.create_indexes(DEAD_LETTER_INDEXES)
            self._sync_ttl_index(self._index_ttl())

    def _refuse_foreign_events(self):
        """Stop before indexing events stored in another layout.

        Every event this driver writes has ``generated``: a document
        without it comes from something else (Panko's own MongoDB driver
        used the same collection name), which the queries would fail on.
        Found at once on such a collection, and through the
        ``event_generated`` index (missing fields are indexed as null)
        once panko created it.
        """
        foreign = self._events.find_one({'generated': None},
                                        projection={'_id': True})
        if foreign is not None:
            raise storage.StorageError(
                'the %s collection of database %s holds events in a layout '
                'panko does not know (event %r has no "generated" field); '
                'use another database' % (self._events.name, self._db.name,
                                          foreign['_id']))

    def _ttl_index_seconds(self):
        """The TTL the index applies, or None without a TTL index."""
        index = self._events.index_information().get(TTL_INDEX)
        return None if index is None else index.get('expireAfterSeconds')

    def _index_ttl(self):
        """The TTL the index should apply; 0 or less for no TTL index.

        The index expires every event alike: it can only apply
        event_time_to_live. With a retention rules file, an event may
        have to outlive that, so panko-expirer deletes by the rules and
        there is no TTL index.
        """
        if self.conf.database.retention_rules_file:
            return 0
        return self.conf.database.event_time_to_live

    def _warn_if_ttl_differs(self):
        """Tell the deployer who changed the options but not the index."""
        ttl = self._index_ttl()
        with self._errors():
            applied = self._ttl_index_seconds()
        if applied == (ttl if ttl > 0 else None):
            return
        if self.conf.database.retention_rules_file:
            LOG.warning('[database] retention_rules_file is set but the '
                        'TTL index expires every event after %s seconds: '
                        'run panko-dbsync to drop it', applied)
        else:
            LOG.warning('[database] event_time_to_live is %d but the TTL '
                        'index expires events after %s seconds: run '
                        'panko-dbsync to apply the option', ttl, applied)

    def _sync_ttl_index(self, ttl):
        """Make the TTL index expire events after ``ttl`` seconds.

        A changed TTL is applied with collMod, which rewrites the index's
        options in place instead of rebuilding it over every event; a TTL
        of 0 or less drops the index, leaving expiry to panko-expirer.
        """
        applied = self._ttl_index_seconds()
        if ttl <= 0:
            if applied is not None:
                self._events.drop_index(TTL_INDEX)
                LOG.info('Dropped the TTL index: events are kept until '
                         'panko-expirer deletes them')
        elif applied is None:
            self._events.create_index([('generated_date', 1)],
                                      name=TTL_INDEX, expireAfterSeconds=ttl)
            LOG.info('Events now expire %d seconds after generation', ttl)
        elif applied != ttl:
            self._db.command('collMod', self._events.name, index={
                'name': TTL_INDEX, 'expireAfterSeconds': ttl})
            LOG.info('Events now expire %d seconds after generation', ttl)

    def clear(self):
        with self._errors():
            self._events.delete_many({})
            self._trait_types.delete_many({})
            self._dead_letters.delete_many({})
        self._known_trait_types.clear()

    # Writing

    def record_events(self, events):
        result = models.RecordResult()
        batch = self._validated_batch(
            events, result, lambda valid: (valid, self._document(valid)))
        if batch:
            # Trait types first: should the insert fail, the retry finds
            # the events stored before as duplicates and would not come
            # back to record their trait types.
            self._record_trait_types([valid for valid, _ in batch.values()])
            duplicates = self._insert([doc for _, doc in batch.values()])
            result.stored.extend(mid for mid in batch if mid not in duplicates)
            result.duplicates.extend(mid for mid in batch if mid in duplicates)
        return result

    @staticmethod
    def _document(event):
        document = {
            '_id': event.message_id,
            'event_type': event.event_type,
            'generated': to_micros(event.generated),
            'generated_date': event.generated,
            'traits': [{'n': trait.name, 't': trait.dtype,
                        'v': _stored_value(trait.dtype, trait.value)}
                       for trait in event.traits],
            'raw': event.raw_json,
        }
        document.update(event.owner())
        try:
            size = len(bson.encode(document))
        except (bson.errors.BSONError, ValueError, OverflowError) as e:
            # Lone surrogates, integers beyond 64 bits: BSON cannot hold
            # them, so neither can MongoDB.
            raise models.InvalidEvent('MongoDB cannot hold the event: %s'
                                      % safe_text.brief(str(e)))
        if size > MAX_DOCUMENT_BYTES:
            raise models.InvalidEvent(
                'the event takes %d bytes, more than MongoDB\'s limit of '
                '%d' % (size, MAX_DOCUMENT_BYTES))
        return document

    def _insert(self, documents):
        """Insert unordered, so a duplicate does not stop the others.

        Returns the message_ids that were already stored.
        """
        with self._errors():
            try:
                self._events.insert_many(documents, ordered=False)
            except errors.BulkWriteError as e:
                return {documents[error['index']]['_id']
                        for error in _duplicate_key_errors(e)}
        return set()

    def _record_trait_types(self, events):
        if (time.monotonic() - self._trait_types_since
                > TRAIT_TYPE_CACHE_SECONDS):
            self._known_trait_types.clear()
            self._trait_types_since = time.monotonic()
        seen = {(event.event_type, trait.name, trait.dtype)
                for event in events for trait in event.traits}
        unknown = sorted(seen - self._known_trait_types)
        if not unknown:
            return
        with self._errors():
            try:
                self._trait_types.insert_many(
                    [{'event_type': event_type, 'name': name, 'type': dtype}
                     for event_type, name, dtype in unknown], ordered=False)
            except errors.BulkWriteError as e:
                # Some were known already (the unique index refused them).
                _duplicate_key_errors(e)
        self._known_trait_types.update(unknown)

    # Reading

    def get_events(self, event_filter, pagination=None, raw_as_json=False):
        pagination = pagination or models.Pagination()
        order = pagination.sort_order()
        if pagination.limit == 0:
            return []
        owner = self._owner_conditions(event_filter)
        conditions = owner + self._conditions(event_filter)
        with self._errors():
            if pagination.marker:
                conditions.extend(
                    self._after_marker(owner, pagination.marker, order))
            cursor = self._events.find(
                {'$and': conditions} if conditions else {},
                projection={'generated_date': False,
                            'project_id': False, 'user_id': False},
                sort=[(SORT_FIELDS[key], 1 if direction == 'asc' else -1)
                      for key, direction in order],
                limit=pagination.limit or 0, max_time_ms=self._max_time_ms)
            documents = list(cursor)
        return [models.Event(
            message_id=document['_id'],
            event_type=document['event_type'],
            generated=from_micros(document['generated']),
            traits=sorted((_trait_from_element(element)
                           for element in document['traits']),
                          key=lambda trait: trait.name),
            raw=(document['raw'] if raw_as_json
                 else json.loads(document['raw'])))
            for document in documents]

    @staticmethod
    def _owner_conditions(event_filter):
        """The access restriction, on the copies of the owner traits.

        Including the project lets a cluster sharded on project_id route
        the query to the shards holding that project.
        """
        conditions = []
        if event_filter.project_id is not None:
            if event_filter.include_unowned:
                conditions.append(
                    {'project_id': {'$in': [event_filter.project_id, None]}})
            else:
                conditions.append({'project_id': event_filter.project_id})
        if event_filter.user_id is not None:
            conditions.append({'user_id': event_filter.user_id})
        return conditions

    def _conditions(self, event_filter):
        conditions = []
        if event_filter.event_type is not None:
            conditions.append({'event_type': event_filter.event_type})
        if event_filter.message_id is not None:
            conditions.append({'_id': event_filter.message_id})
        if event_filter.start_timestamp is not None:
            conditions.append({'generated': {'$gte': to_micros(
                models.normalize_datetime(event_filter.start_timestamp))}})
        if event_filter.end_timestamp is not None:
            conditions.append({'generated': {'$lte': to_micros(
                models.normalize_datetime(event_filter.end_timestamp))}})
        for trait_filter in event_filter.traits_filter:
            conditions.append(self._trait_condition(trait_filter))
        return conditions

    @staticmethod
    def _trait_condition(trait_filter):
        operator = _OPERATORS[trait_filter.op]
        value = _stored_value(trait_filter.dtype, trait_filter.value)
        if (trait_filter.name == 'project_id'
                and trait_filter.dtype == models.Trait.TEXT_TYPE):
            # The same values as the trait, indexed in listing order (and
            # the shard key's lead). "ne" must not match events without
            # the trait, as it does not on the trait itself. user_id has
            # no index of its own: its filters use the traits index.
            if operator == '$ne':
                return {'project_id': {'$nin': [value, None]}}
            return {'project_id': {operator: value}}
        return {'traits': {'$elemMatch': {
            'n': trait_filter.name, 't': trait_filter.dtype,
            'v': {operator: value}}}}

    def _after_marker(self, owner, marker, order):
        """The keyset conditions "comes after the marker event".

        The marker is looked up among the events the caller may see; see
        base.after_marker.
        """
        found = self._events.find_one(
            {'$and': [{'_id': marker}] + owner},
            projection={'generated': True}, max_time_ms=self._max_time_ms)
        values = None if found is None else {
            'generated': found['generated'], 'message_id': marker}
        leading, alternatives = base.after_marker(marker, values, order)
        return [_sort_key_query([leading]),
                {'$or': [_sort_key_query(alternative)
                         for alternative in alternatives]}]

    def get_event_types(self):
        with self._errors():
            return sorted(self._events.find(
                {}, max_time_ms=self._max_time_ms).distinct('event_type'))

    def get_trait_types(self, event_type):
        with self._errors():
            # The TTL index removes events but not the trait types it
            # leaves without events: hide those until the expirer runs.
            if self._events.find_one({'event_type': event_type},
                                     projection={'_id': True},
                                     max_time_ms=self._max_time_ms) is None:
                return []
            found = list(self._trait_types.find(
                {'event_type': event_type},
                sort=[('name', 1), ('type', 1)],
                max_time_ms=self._max_time_ms))
        return [{'name': found_type['name'], 'data_type': found_type['type']}
                for found_type in found]

    def get_traits(self, event_type, trait_name=None):
        query = {'event_type': event_type}
        projection = {'_id': False, 'traits': True}
        if trait_name is not None:
            query['traits.n'] = trait_name
            projection['traits'] = {'$elemMatch': {'n': trait_name}}
        with self._errors():
            return [_trait_from_element(element)
                    for document in self._events.find(
                        query, projection, max_time_ms=self._max_time_ms)
                    for element in document['traits']]

    # Retention

    def _delete_expired_events(self, selector, limit):
        with self._errors():
            expired = [document['_id'] for document in self._events.find(
                self._selected(selector),
                projection={'_id': True}, sort=[('generated', 1)],
                limit=limit)]
            if not expired:
                return None
            return self._events.delete_many(
                {'_id': {'$in': expired}}).deleted_count

    @staticmethod
    def _selected(selector):
        """The query of a retention.Selector.

        ``$nin`` also matches events whose project_id is null.
        """
        query = {'generated': {'$lt': to_micros(selector.cutoff)}}
        if selector.event_types is not None:
            query['event_type'] = {'$in': sorted(selector.event_types)}
        if selector.project_id is not None:
            query['project_id'] = selector.project_id
        elif selector.excluded_projects:
            query['project_id'] = {
                '$nin': sorted(selector.excluded_projects)}
        return query

    def _delete_unused_event_types(self):
        """Forget the trait types of event types without events."""
        with self._errors():
            unused = (set(self._trait_types.distinct('event_type'))
                      - set(self._events.distinct('event_type')))
            if unused:
                self._trait_types.delete_many(
                    {'event_type': {'$in': sorted(unused)}})
                self._known_trait_types.clear()
        return len(unused)

    # Dead letters

    def record_dead_letters(self, letters):
        documents = [base.dead_letter_fields(letter) for letter in letters]
        if not documents:
            return
        with self._errors():
            last = self._counters.find_one_and_update(
                {'_id': 'dead_letter'},
                {'$inc': {'last': len(documents)}}, upsert=True,
                return_document=pymongo.ReturnDocument.AFTER)['last']
            for letter_id, document in enumerate(
                    documents, last - len(documents) + 1):
                document['_id'] = letter_id
                document['created_at'] = to_micros(document['created_at'])
            self._dead_letters.insert_many(documents)

    def get_dead_letters(self, limit=None, after_id=None, door=None):
        query = self._dead_letter_query(door)
        if after_id is not None:
            query['_id'] = {'$gt': after_id}
        if limit == 0:
            return []
        with self._errors():
            documents = list(self._dead_letters.find(
                query, sort=[('_id', 1)], limit=limit or 0))
        for document in documents:
            document['created_at'] = from_micros(document['created_at'])
        return [base.dead_letter_from_fields(document['_id'], document)
                for document in documents]

    @staticmethod
    def _dead_letter_query(door):
        return {} if door is None else {'door': door}

    def count_dead_letters(self, door=None):
        with self._errors():
            return self._dead_letters.count_documents(
                self._dead_letter_query(door))

    def update_dead_letter_reason(self, letter_id, reason):
        with self._errors():
            self._dead_letters.update_one(
                {'_id': letter_id}, {'$set': {'reason': safe_text.printable(
                    reason, models.MAX_DEAD_LETTER_REASON)}})

    def delete_dead_letters(self, ids=None):
        query = {} if ids is None else {'_id': {'$in': list(ids)}}
        with self._errors():
            return self._dead_letters.delete_many(query).deleted_count
