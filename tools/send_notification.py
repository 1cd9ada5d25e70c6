#!/usr/bin/env python3
"""Send sample notifications to the message bus, as OpenStack services do.

Each sample (etc/panko/samples/*.json) is a notification as a service
emits it: its exchange, publisher_id, event_type, priority, request
context and payload. It is sent with an oslo.messaging Notifier, as the
service would send it, to the bus of ``[DEFAULT] transport_url`` of the
given configuration (panko-dispatcher's own will do), on the sample's
exchange and ``--topic``.

Usage: send_notification.py --config-file panko.conf [--topic TOPIC]
                            SAMPLE.json [SAMPLE.json ...]
"""

import json
import sys

from oslo_config import cfg
from oslo_context import context
import oslo_messaging
from oslo_messaging import opts as messaging_opts

CLI_OPTS = [
    cfg.StrOpt('topic', default='notifications',
               help="The topic to send to: the services' default, "
                    "notifications, or the dispatcher's [dispatcher] "
                    'notification_topics.'),
    cfg.MultiStrOpt('sample', positional=True, required=True,
                    help='A sample notification (JSON file).'),
]


def configuration(argv):
    conf = cfg.ConfigOpts()
    conf.register_cli_opts(CLI_OPTS)
    for group, options in messaging_opts.list_opts():
        conf.register_opts(options,
                           group=None if group == 'DEFAULT' else group)
    conf(argv, project='panko')
    return conf


def send(conf, sample, topic):
    """Send one sample as its service does: from its exchange."""
    # The exchange is the sender's [DEFAULT] control_exchange, which the
    # transport reads when it is created.
    conf.set_override('control_exchange', sample['exchange'])
    transport = oslo_messaging.get_notification_transport(conf)
    try:
        notifier = oslo_messaging.Notifier(
            transport, publisher_id=sample['publisher_id'],
            driver='messagingv2', topics=[topic])
        notify = getattr(notifier, sample['priority'].lower())
        notify(context.RequestContext.from_dict(sample['ctxt']),
               sample['event_type'], sample['payload'])
    finally:
        transport.cleanup()


def main(argv=None):
    conf = configuration(sys.argv[1:] if argv is None else argv)
    for path in conf.sample:
        with open(path) as f:
            sample = json.load(f)
        send(conf, sample, conf.topic)
        print('Sent %s (%s, from %s) to exchange %s, topic %s'
              % (sample['event_type'], sample['priority'].lower(),
                 sample['publisher_id'], sample['exchange'], conf.topic))


if __name__ == '__main__':
    main()
