"""Storage drivers: chosen by the scheme of ``[database] connection``."""

import time
from urllib import parse

from oslo_config import cfg
from oslo_log import log
from stevedore import driver
from stevedore import exception as stevedore_exc

LOG = log.getLogger(__name__)

DATABASE_OPTS = [
    cfg.IntOpt('event_time_to_live',
               default=-1,
               help='Number of seconds that events are kept in the '
                    'database; panko-expirer deletes older ones. A value '
                    'of 0 or less keeps events forever.'),
    cfg.IntOpt('events_delete_batch_size',
               default=0,
               min=0,
               help='Most events panko-expirer deletes in one run; 0 '
                    'deletes every expired event (in bounded chunks, so '
                    'a large backlog never holds one giant transaction). '
                    'Whole partitions a partitioned database drops do '
                    'not count: only the events deleted one by one do.'),
    cfg.StrOpt('partitioning',
               default='off',
               choices=[('off', 'tables are not partitioned'),
                        ('auto', 'panko-dbsync partitions the event and '
                                 'trait tables of a new PostgreSQL '
                                 'database by time')],
               help='Whether panko-dbsync partitions a new (empty) '
                    'PostgreSQL database by the time events were '
                    'generated, so that panko-expirer drops whole '
                    'partitions instead of deleting rows. A database '
                    'holding events keeps its layout; MySQL/MariaDB and '
                    'SQLite are never partitioned. See "Partitions '
                    '(PostgreSQL)" in the administrator guide.'),
    cfg.IntOpt('partition_width',
               default=24,
               min=1,
               max=24 * 31,
               help='Hours of events each partition holds, when '
                    'panko-dbsync partitions a database; fixed from then '
                    'on (the database records it).'),
    cfg.StrOpt('retention_rules_file',
               help='A YAML file of retention rules: how long events of '
                    'an event type (an fnmatch pattern) or of a project '
                    'are kept, the first matching rule deciding; events '
                    'no rule matches are kept for event_time_to_live. A '
                    'relative path is looked up next to the '
                    'configuration files. Unset, event_time_to_live '
                    'applies to every event. See '
                    'etc/panko/retention_rules.yaml.sample.'),
]

STORAGE_OPTS = [
    cfg.IntOpt('max_retries',
               default=10,
               help='Maximum number of connection attempts to the '
                    'database at start-up; -1 retries forever.'),
    cfg.IntOpt('retry_interval',
               default=10,
               help='Seconds to wait between connection attempts.'),
    cfg.IntOpt('max_event_raw_size',
               default=256 * 1024,
               min=0,
               help='Largest raw notification stored with an event, in '
                    'bytes of its JSON text; a larger event is rejected '
                    'whole, with the reason logged (and listed in the '
                    'answer to POST /v2/events). '
                    'Each event of an API answer carries its raw '
                    'document, so this bounds the size of a page. 0 sets '
                    'no limit (MongoDB still refuses events above 16 '
                    'MiB).'),
    cfg.IntOpt('max_event_traits',
               default=256,
               min=0,
               help='Most traits an event may have; an event with more '
                    'is rejected whole, as for max_event_raw_size. 0 sets '
                    'no limit.'),
]


class StorageError(Exception):
    """Base class of every error a storage driver raises."""


class StorageUnavailable(StorageError):
    """The database could not be reached or failed mid-operation.

    Nothing of the operation in hand was committed: the caller may retry.
    """


class UnstorableEvents(StorageError):
    """The database refused a batch for what it holds, not for an outage.

    Trying the same batch again fails the same way: the caller isolates
    the events at fault (see panko.ingestion.recorder). The text names
    the database's reason, without the statement.
    """


class QueryTimeout(StorageUnavailable):
    """A statement ran longer than the connection's ``query_timeout``.

    The database cancelled it; nothing was committed.
    """


class InvalidMarker(StorageError):
    """The pagination marker names no event visible to the caller."""


def get_connection_from_config(conf, query_timeout=0, replica=False):
    """Connect to the configured database, retrying while it is down.

    ``query_timeout`` (seconds, 0 for none) bounds each statement of this
    connection; see :func:`get_connection`. With ``replica``, the
    connection reads events from ``[database] slave_connection`` when it
    is set: only the API asks for it. The dispatcher, the expirer,
    panko-dbsync and panko-dead-letters write, or must read what they
    have just written, and use ``[database] connection`` alone.
    """
    url = conf.database.connection
    if not url:
        raise StorageError('[database] connection is not set')
    reader_url = conf.database.slave_connection if replica else None
    attempts = conf.storage.max_retries
    while True:
        try:
            return get_connection(conf, url, query_timeout, reader_url)
        except StorageUnavailable as e:
            if attempts == 0:
                raise
            attempts -= 1
            LOG.warning('Cannot connect to the database (%s); retrying in '
                        '%d seconds', e, conf.storage.retry_interval)
            time.sleep(conf.storage.retry_interval)


def get_connection(conf, url, query_timeout=0, reader_url=None):
    """Load the driver registered for the URL's scheme and connect.

    With a ``query_timeout`` (seconds), the database cancels any statement
    of this connection that runs longer, and the driver raises
    QueryTimeout. The API asks for it; the dispatcher and the expirer,
    whose writes must finish, do not.

    With a ``reader_url``, a driver that reads from replicas (the SQL
    driver) reads events there, under the same ``query_timeout``, and
    writes to ``url``; the others log that they ignore it.
    """
    scheme = parse.urlparse(url).scheme
    LOG.debug('Loading the %s storage driver', scheme)
    try:
        mgr = driver.DriverManager('panko.storage', scheme)
    except stevedore_exc.NoMatches:
        raise StorageError('no storage driver for %r URLs' % scheme)
    return mgr.driver(conf, url, query_timeout=query_timeout,
                      reader_url=reader_url)
