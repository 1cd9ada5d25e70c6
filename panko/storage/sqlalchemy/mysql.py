"""What only MySQL and MariaDB need: a plan for dense trait filters.

A trait filter is a semi-join, ``event.id IN (SELECT event_id FROM
trait_int WHERE key = ... AND value > ...)``. MySQL and MariaDB run it by
collecting every matching trait row and sorting the matching events,
whatever the page's LIMIT: the cost grows with the number of matches.
When a filter matches many rows, reading the events in the listing's
index order and probing each one's trait through the trait table's
primary key (event_id, key) finds a page's worth much sooner; when it
matches few, collecting them is the cheaper plan, and the probing one
could read every event of the listing for nothing. The choice is made on
a count of the matching rows that stops at DENSE_TRAIT_ROWS (see the
benchmarks page for the figures).
"""

import contextlib

import sqlalchemy as sa

#: From this many matching trait rows, a filter is probed, not collected.
DENSE_TRAIT_ROWS = 2000

_PROBE = "SET SESSION optimizer_switch = 'semijoin=off,materialization=off'"
_RESET = 'SET SESSION optimizer_switch = DEFAULT'


def dense(conn, trait_rows):
    """Whether the select ``trait_rows`` matches DENSE_TRAIT_ROWS rows.

    It reads at most that many entries of the trait table's (key, value)
    index.
    """
    sample = trait_rows.limit(DENSE_TRAIT_ROWS).subquery()
    count = conn.scalar(sa.select(sa.func.count()).select_from(sample))
    return count >= DENSE_TRAIT_ROWS


@contextlib.contextmanager
def probing_traits(conn):
    """Run the statements inside with semi-joins probed row by row.

    The session's switch is reset afterwards; a connection left in doubt
    by an error is discarded rather than returned to the pool with it.
    """
    conn.exec_driver_sql(_PROBE)
    try:
        yield
    except BaseException:
        conn.invalidate()
        raise
    conn.exec_driver_sql(_RESET)
