"""Telling a database outage from a batch the database refuses.

An outage (the server gone, read-only, out of disk, a deadlock, a
timeout, a table or a privilege missing) passes: the same batch is worth
trying again later. Anything else is the data's fault and would fail the
same way forever, so the events at fault must be set aside instead
(panko.ingestion.recorder): a value out of range, text the column cannot
hold, a constraint. An event set aside can be replayed; a batch requeued
forever blocks every event behind it.
"""

import sqlite3

from oslo_db import exception as db_exc
import sqlalchemy as sa

from panko import safe_text

#: SQLSTATE classes of failures that pass: connection exception,
#: transaction rollback (serialization, deadlock), a missing table or
#: privilege (a deployment being fixed), insufficient resources, object
#: not in prerequisite state (lock not available), operator intervention
#: (shutdown, cancelled), system error.
OUTAGE_SQLSTATE_CLASSES = ('08', '40', '42', '53', '55', '57', '58')
#: Single SQLSTATEs that pass: read-only transaction.
OUTAGE_SQLSTATES = ('25006',)
#: MySQL/MariaDB server errors that pass: disk full, access denied,
#: too many connections, shutdown, unknown column, table full, command
#: denied, unknown table, lock wait timeout, deadlock, --read-only,
#: read-only transaction, statement timeouts, killed.
MYSQL_OUTAGE_ERRNOS = frozenset((
    1021, 1040, 1044, 1045, 1049, 1053, 1054, 1114, 1142, 1143, 1146,
    1205, 1213, 1290, 1792, 1836, 1907, 1927, 1969, 3024))
#: MySQL's and MariaDB's errors for a statement over its time limit.
MYSQL_TIMEOUT_ERRNOS = (1969, 3024)
#: SQLSTATE of a statement cancelled (PostgreSQL's statement_timeout).
QUERY_CANCELED = '57014'
#: SQLite's result code of a statement its progress handler interrupted.
SQLITE_INTERRUPT = 9

#: SQLite result codes that are the data's: too big, constraint,
#: mismatch, range. Any other (busy, locked, read-only, I/O, full, no
#: such table...) passes.
SQLITE_DATA_CODES = frozenset((18, 19, 20, 25))


def dbapi_error(error):
    """The DB-API driver's own exception inside oslo.db's or SQLAlchemy's."""
    error = getattr(error, 'inner_exception', None) or error
    return getattr(error, 'orig', None) or error


def is_outage(error):
    """Whether a database failure passes, rather than being the data's."""
    if isinstance(error, (db_exc.DBConnectionError, db_exc.DBDeadlock)):
        return True
    driver_error = dbapi_error(error)
    args = getattr(driver_error, 'args', ())
    if args and isinstance(args[0], int):
        # PyMySQL: (errno, message); client errors (2000 to 2999) are all
        # about the connection. Its SQLSTATEs are too coarse to tell.
        return 2000 <= args[0] < 3000 or args[0] in MYSQL_OUTAGE_ERRNOS
    sqlstate = getattr(driver_error, 'sqlstate', None)
    if sqlstate:
        return (sqlstate[:2] in OUTAGE_SQLSTATE_CLASSES
                or sqlstate in OUTAGE_SQLSTATES)
    if isinstance(driver_error, sqlite3.Error):
        code = getattr(driver_error, 'sqlite_errorcode', 1)
        return code & 0xff not in SQLITE_DATA_CODES
    # No answer from the server at all (no SQLSTATE): DB-API's
    # OperationalError is then about reaching it.
    wrapper = getattr(error, 'inner_exception', None) or error
    return isinstance(wrapper, sa.exc.OperationalError)


def timed_out(error):
    """Whether a database error is a statement cancelled for its time."""
    driver_error = dbapi_error(error)
    args = getattr(driver_error, 'args', ())
    if args and isinstance(args[0], int):
        return args[0] in MYSQL_TIMEOUT_ERRNOS
    if isinstance(driver_error, sqlite3.Error):
        return getattr(driver_error, 'sqlite_errorcode', 0) == SQLITE_INTERRUPT
    return getattr(driver_error, 'sqlstate', None) == QUERY_CANCELED


def describe(error):
    """The database's reason for ``error``, without the statement.

    oslo.db's and SQLAlchemy's texts carry the SQL and its parameters,
    which must reach neither a caller nor a dead letter.
    """
    driver_error = dbapi_error(error)
    args = getattr(driver_error, 'args', ())
    if len(args) == 2 and isinstance(args[0], int):
        text = '%s (%d)' % (args[1], args[0])
    else:
        text = str(driver_error).split('\n', 1)[0]
    return '%s: %s' % (type(driver_error).__name__,
                       safe_text.brief(text, 300))
