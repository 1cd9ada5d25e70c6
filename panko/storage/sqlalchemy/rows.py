"""The rows a validated event becomes in the SQL tables.

Both write paths (INSERT, and COPY on PostgreSQL) and the benchmark's
bulk loader build their rows here, so that they store the same thing.
"""

from panko.storage import models
from panko.storage.sqlalchemy import tables

TRAIT_TABLES = {
    models.Trait.TEXT_TYPE: tables.trait_text,
    models.Trait.INT_TYPE: tables.trait_int,
    models.Trait.FLOAT_TYPE: tables.trait_float,
    models.Trait.DATETIME_TYPE: tables.trait_datetime,
}

#: Columns of ``event`` holding Event.owner(), for the access restriction.
OWNER_COLUMNS = models.OWNER_TRAITS


def event_row(event, type_ids):
    """The ``event`` row of a validated event, without its id."""
    row = {'message_id': event.message_id,
           'generated': event.generated,
           'event_type_id': type_ids[event.event_type],
           'raw': event.raw_json}
    row.update(event.owner())
    return row


def trait_tuples(identified_events, with_generated=False):
    """{dtype: [(event_id, key, value)]} of (event_id, event) pairs.

    ``with_generated`` puts the event's generated after its id, for the
    partitioned layout (``partitions.py``), as ISO 8601 text: COPY's
    text takes it as it is, where a datetime would be converted once for
    every trait row.
    """
    rows = {dtype: [] for dtype in TRAIT_TABLES}
    for event_id, event in identified_events:
        head = ((event_id, event.generated.isoformat(' ')) if with_generated
                else (event_id,))
        for trait in event.traits:
            rows[trait.dtype].append(head + (trait.name, trait.value))
    return rows
