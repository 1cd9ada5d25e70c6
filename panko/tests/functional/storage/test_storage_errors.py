"""Outage or the data's fault: real errors of each SQL engine, classified.

The dispatcher requeues a batch on an outage and sets the events at
fault aside otherwise, so a wrong answer here either blocks ingestion or
sets valid events aside.
"""

import pytest
import sqlalchemy as sa

from panko import storage
from panko.storage.sqlalchemy import errors
from panko.tests import backends

#: Per engine: (statements run in one transaction, is it an outage?).
CASES = {
    'postgresql': [
        (['SELECT * FROM missing_table'], True),
        (['SET TRANSACTION READ ONLY', 'INSERT INTO t VALUES (2)'], True),
        (['SET LOCAL statement_timeout = 50', 'SELECT pg_sleep(1)'], True),
        (['INSERT INTO t VALUES (99999999999)'], False),
        (["INSERT INTO t VALUES ('abc')"], False),
        (['INSERT INTO t VALUES (1)'], False),
    ],
    'mysql': [
        (['SELECT * FROM missing_table'], True),
        (['SET SESSION max_statement_time = 0.05',
          'SELECT SLEEP(1) FROM t'], True),
        (['INSERT INTO t VALUES (99999999999)'], False),
        (['INSERT INTO t VALUES (1)'], False),
        # MariaDB's own error numbers run past the client's (2000-2999).
        (['ALTER TABLE t ADD CONSTRAINT small CHECK (x < 10)',
          'INSERT INTO t VALUES (11)'], False),
    ],
    'sqlite': [
        (['SELECT * FROM missing_table'], True),
        (['INSERT INTO t VALUES (1)'], False),
    ],
}


@pytest.fixture(params=backends.SQL_ENGINES)
def engine(request, tmp_path):
    """An engine built as the driver builds it, with a table t(x)."""
    with backends.temporary_database(request.param, str(tmp_path)) as url:
        connection = storage.get_connection(backends.make_conf(url), url)
        engine = connection.engine
        with engine.begin() as conn:
            conn.execute(sa.text('CREATE TABLE t (x INTEGER UNIQUE)'))
            conn.execute(sa.text('INSERT INTO t VALUES (1)'))
        yield engine
        with engine.begin() as conn:
            conn.execute(sa.text('DROP TABLE t'))
        engine.dispose()


def test_errors_classified_as_outage_or_data(engine):
    for statements, outage in CASES[engine.dialect.name]:
        with pytest.raises(Exception) as caught:
            with engine.begin() as conn:
                for statement in statements:
                    conn.execute(sa.text(statement))
        assert errors.is_outage(caught.value) is outage, statements
        reason = errors.describe(caught.value)
        # The reason names the failure, never the statement.
        assert '[SQL' not in reason and 'INTO t' not in reason, reason
        assert 'FROM missing_table' not in reason, reason
