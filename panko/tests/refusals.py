"""Making a real database refuse one trait value, as bad luck would.

A constraint (a trigger on SQLite) refuses the text trait value
``REFUSED``: the database's own refusal of a value that passed every
check of panko's, like a character a column cannot hold.
"""

import sqlalchemy as sa

REFUSED = 'refuse-me'

_STATEMENTS = {
    'sqlite': "CREATE TRIGGER refuse_value BEFORE INSERT ON trait_text "
              "WHEN NEW.value = '%s' "
              "BEGIN SELECT RAISE(ABORT, 'value refused'); END" % REFUSED,
    'postgresql': "ALTER TABLE trait_text ADD CONSTRAINT refuse_value "
                  "CHECK (value <> '%s')" % REFUSED,
    'mysql': "ALTER TABLE trait_text ADD CONSTRAINT refuse_value "
             "CHECK (value <> '%s')" % REFUSED,
}


def refuse_value(url):
    """Make the migrated SQL database at ``url`` refuse REFUSED."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(_STATEMENTS[engine.dialect.name]))
    finally:
        engine.dispose()
