"""Publishing to the real RabbitMQ exactly as Ceilometer and services do.

Ceilometer's ``notifier://`` publisher sends one message per
``publish_events()`` call with an oslo.messaging Notifier: priority
``sample``, event_type ``event`` (the topic), an empty context and the
list of serialized events as payload (see the wire contract). OpenStack
services send raw notifications with a Notifier too, from a request
context, to their own exchange.
"""

import contextlib
import os
import uuid

import kombu
from oslo_config import cfg
from oslo_context import context
import oslo_messaging
from oslo_messaging import opts as messaging_opts

RABBIT_URL = os.environ.get('PANKO_TEST_RABBIT_URL',
                            'rabbit://guest:guest@127.0.0.1:5672/')
PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical',
              'sample')


def amqp_url():
    return RABBIT_URL.replace('rabbit://', 'amqp://', 1)


def unique_name(prefix):
    return '%s_%s' % (prefix, uuid.uuid4().hex[:10])


@contextlib.contextmanager
def notifier(exchange, topic, publisher_id):
    """A Notifier sending to ``exchange`` (the sender's control_exchange)."""
    conf = cfg.ConfigOpts()
    for group, options in messaging_opts.list_opts():
        conf.register_opts(options,
                           group=None if group == 'DEFAULT' else group)
    conf([], project='panko-tests')
    conf.set_override('control_exchange', exchange)
    transport = oslo_messaging.get_notification_transport(conf,
                                                          url=RABBIT_URL)
    try:
        yield oslo_messaging.Notifier(transport, publisher_id=publisher_id,
                                      driver='messagingv2', topics=[topic])
    finally:
        transport.cleanup()


def publish_events(exchange, topic, messages, host='host1'):
    """Send each list of serialized events as one message, as Ceilometer."""
    with notifier(exchange, topic,
                  'telemetry.publisher.%s' % host) as events_notifier:
        for payload in messages:
            events_notifier.sample({}, 'event', payload)


def publish_notification(exchange, topic, sample):
    """Send a raw notification as a service does, from its sample dict.

    ``sample`` has publisher_id, event_type, priority, ctxt and payload.
    """
    ctxt = context.RequestContext.from_dict(sample['ctxt'])
    with notifier(exchange, topic, sample['publisher_id']) as service:
        send = getattr(service, sample['priority'].lower())
        send(ctxt, sample['event_type'], sample['payload'])


def publish_body(exchange, routing_key, body):
    """Put a raw AMQP body on the bus, bypassing oslo.messaging."""
    with kombu.Connection(amqp_url()) as connection:
        producer = connection.Producer()
        producer.publish(body, exchange=kombu.Exchange(exchange, 'topic',
                                                       durable=False),
                         routing_key=routing_key,
                         content_type='application/json',
                         content_encoding='utf-8', declare=[])


def queue_depth(name):
    """(messages ready, consumers) of a queue, (0, 0) if it is gone."""
    with kombu.Connection(amqp_url()) as connection:
        channel = connection.channel()
        try:
            _, messages, consumers = channel.queue_declare(name,
                                                           passive=True)
        except Exception:
            return 0, 0
        return messages, consumers


def delete_topology(exchanges, topics):
    """Remove the queues and exchanges a test's names gave rise to."""
    with kombu.Connection(amqp_url()) as connection:
        channel = connection.channel()
        for topic in topics:
            for priority in PRIORITIES:
                channel.queue_delete('%s.%s' % (topic, priority))
        for exchange in exchanges:
            channel.exchange_delete(exchange)
