"""The dispatcher's worker processes and their oslo.messaging listeners."""

import cotyledon
from oslo_log import log
import oslo_messaging
from oslo_messaging import opts as messaging_opts

from panko import storage
from panko.dispatcher import endpoints
from panko.dispatcher import stats
from panko.ingestion import definitions

LOG = log.getLogger(__name__)

#: Events and raw notifications are both handled by batch listeners; the
#: 'threading' executor is the one that needs no eventlet.
EXECUTOR = 'threading'


def load_normalizer(conf):
    """The raw-notification normalizer, or None when it is not enabled.

    Loaded before the workers start so that a broken definitions file
    stops the service at once with a clear message.
    """
    if not conf.dispatcher.raw_notifications:
        return None
    return definitions.load_configured(conf)


def set_messaging_defaults(conf):
    """Prefetch two batches per consumer unless configured otherwise.

    RabbitMQ's default (no limit) would let the first consumer take a
    whole backlog into memory and leave nothing to the others.
    """
    for group, options in messaging_opts.list_opts():
        conf.register_opts(options,
                           group=None if group == 'DEFAULT' else group)
    conf.set_default('rabbit_qos_prefetch_count',
                     2 * conf.dispatcher.batch_size,
                     group='oslo_messaging_rabbit')


def batch_listener(conf, transport, targets, endpoint):
    return oslo_messaging.get_batch_notification_listener(
        transport, targets, [endpoint], executor=EXECUTOR,
        allow_requeue=True, batch_size=conf.dispatcher.batch_size,
        batch_timeout=conf.dispatcher.batch_timeout)


class DispatcherService(cotyledon.Service):
    """One dispatcher process: its listeners share one store connection."""

    name = 'panko-dispatcher'

    def __init__(self, worker_id, conf, normalizer):
        super().__init__(worker_id)
        self.conf = conf
        self.normalizer = normalizer
        self.transport = None
        self.endpoints = []
        self.listeners = []
        self.stats = stats.Stats()
        self.reporter = None

    def run(self):
        options = self.conf.dispatcher
        connection = storage.get_connection_from_config(self.conf)
        self.transport = oslo_messaging.get_notification_transport(self.conf)
        if options.event_topics:
            self._listen(
                [oslo_messaging.Target(topic=topic,
                                       exchange=options.event_exchange)
                 for topic in options.event_topics],
                endpoints.EventEndpoint(self.conf, connection, self.stats))
        if self.normalizer is not None:
            self._listen(
                [oslo_messaging.Target(topic=topic, exchange=exchange)
                 for exchange in options.notification_exchanges
                 for topic in options.notification_topics],
                endpoints.NotificationEndpoint(self.conf, connection,
                                               self.normalizer, self.stats))
        if options.stats_interval:
            self.reporter = stats.Reporter(self.stats, options.stats_interval,
                                           self.worker_id)
            self.reporter.start()
        LOG.info('Dispatcher worker %d started: events on %s, raw '
                 'notifications %s', self.worker_id, options.event_topics,
                 'on' if self.normalizer else 'off')

    def _listen(self, targets, endpoint):
        listener = batch_listener(self.conf, self.transport, targets,
                                  endpoint)
        self.endpoints.append(endpoint)
        self.listeners.append(listener)
        listener.start()

    def terminate(self):
        """Stop consuming, finish or requeue the batches in hand."""
        if self.reporter is not None:
            self.reporter.stop()
        for endpoint in self.endpoints:
            endpoint.stop()
        for listener in self.listeners:
            listener.stop()
        for listener in self.listeners:
            listener.wait()
        if self.transport is not None:
            self.transport.cleanup()
        LOG.info('Dispatcher worker %d stopped', self.worker_id)
