"""Bring a database to the newest schema, adopting Panko 10 databases."""

import os

from alembic import command
from alembic import config
from alembic import migration
from alembic import script
from oslo_log import log
import sqlalchemy as sa

LOG = log.getLogger(__name__)

#: The revision that describes the schema Panko 10 created without alembic.
PANKO10_REVISION = 'panko10'


def _alembic_config(connection):
    cfg = config.Config()
    cfg.set_main_option('script_location',
                        os.path.join(os.path.dirname(__file__), 'alembic'))
    cfg.attributes['connection'] = connection
    return cfg


def upgrade(engine):
    """Migrate to the newest revision; safe to run any number of times.

    A database that has Panko 10's tables but no alembic version table was
    made by Panko 10's dbsync: it is stamped with the revision describing
    that schema, then migrated like any other, keeping every event.
    """
    with engine.begin() as connection:
        cfg = _alembic_config(connection)
        inspector = sa.inspect(connection)
        if (not inspector.has_table('alembic_version')
                and inspector.has_table('event')):
            LOG.info('Found a Panko 10 database: adopting it')
            command.stamp(cfg, PANKO10_REVISION)
        command.upgrade(cfg, 'head')


def current_revision(engine):
    """The database's revision, or None for an empty database."""
    with engine.connect() as connection:
        return migration.MigrationContext.configure(
            connection).get_current_revision()


def head_revision():
    cfg = _alembic_config(None)
    return script.ScriptDirectory.from_config(cfg).get_current_head()
