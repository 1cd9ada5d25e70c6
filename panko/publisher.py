"""``panko://``: a publisher for Ceilometer's event pipeline.

Ceilometer loads it by the URL's scheme from the entry point namespace
``ceilometer.event.publisher`` and calls ``publish_events`` with its own
Event objects (``message_id``, ``event_type``, ``generated`` as a naive UTC
datetime, ``traits`` with ``name``, ``dtype`` and ``value``, and ``raw``).
The events are committed before ``publish_events`` returns; an event
the store cannot take is set aside as a dead letter, and an outage is
raised to Ceilometer, never swallowed.

The publisher reads panko's own configuration files (``/etc/panko/
panko.conf`` by default, or ``panko://?config_file=/path/panko.conf``),
never Ceilometer's options, and leaves Ceilometer's logging alone. Nothing
here imports Ceilometer.
"""

from urllib import parse

from oslo_config import cfg
from oslo_log import log

from panko import service
from panko import storage
from panko.ingestion import recorder
from panko.storage import models

LOG = log.getLogger(__name__)


def load_config(config_files=None):
    """Panko's options from its config files, without setting up logging.

    ``prepare_service()`` would configure logging and change oslo.log's
    and oslo.middleware's defaults, which belong to the Ceilometer process
    this publisher runs in.
    """
    conf = cfg.ConfigOpts()
    service.register_panko_options(conf)
    conf([], project='panko', validate_default_values=True,
         default_config_files=config_files)
    return conf


def event_from_ceilometer(event):
    """A panko Event from a Ceilometer Event object (same fields)."""
    return models.Event(
        message_id=event.message_id,
        event_type=event.event_type,
        generated=event.generated,
        traits=[models.Trait(trait.name, trait.dtype, trait.value)
                for trait in event.traits or []],
        raw=event.raw or {})


class PankoPublisher:
    def __init__(self, conf, parsed_url):
        """``conf`` is Ceilometer's configuration: it is not used."""
        query = parse.parse_qs(parsed_url.query)
        self.conf = load_config(query.get('config_file'))
        self.connection = storage.get_connection_from_config(self.conf)

    def publish_samples(self, samples):
        """Samples are not events: panko does not store them."""

    def publish_events(self, events):
        result = recorder.record(
            self.connection, [event_from_ceilometer(e) for e in events],
            door='publisher')
        LOG.debug('panko:// stored %d events, %d duplicates, %d rejected',
                  len(result.stored), len(result.duplicates),
                  len(result.rejected))
