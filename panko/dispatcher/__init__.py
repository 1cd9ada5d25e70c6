"""panko-dispatcher: events from oslo.messaging into the event store."""

from oslo_config import cfg

NOTIFICATION_EXCHANGES = [
    'nova', 'cinder', 'neutron', 'glance', 'keystone', 'heat', 'swift',
    'trove', 'magnum', 'designate', 'manila', 'octavia', 'ironic',
    'sahara', 'zaqar', 'openstack',
]

OPTS = [
    cfg.StrOpt('telemetry_secret',
               secret=True,
               help="Secret shared with Ceilometer's [publisher] "
                    "telemetry_secret. When set, an event whose "
                    "message_signature does not match (or is empty) is "
                    "rejected and logged, never stored. When unset or "
                    "empty, events are accepted without checking "
                    "signatures. POST /v2/events checks the events that "
                    "carry a signature, and accepts unsigned ones from the "
                    "callers its policy allows (Ceilometer's http:// "
                    "publisher signs none)."),
    cfg.IntOpt('batch_size',
               default=100,
               min=1,
               help='Most messages handled together: their events are '
                    'written in one batch and the messages acknowledged '
                    'once it is committed.'),
    cfg.IntOpt('batch_timeout',
               default=1,
               min=1,
               help='Seconds to wait for a batch to fill before handling '
                    'the messages already received.'),
    cfg.IntOpt('workers',
               default=1,
               min=1,
               help='Dispatcher processes to run. They consume the same '
                    'queues as competing consumers, as do dispatchers on '
                    'other hosts.'),
    cfg.StrOpt('event_exchange',
               default='ceilometer',
               help="Exchange Ceilometer's notifier:// publisher sends "
                    "events to (Ceilometer's [DEFAULT] control_exchange)."),
    cfg.ListOpt('event_topics',
                default=['event'],
                help="Topics of Ceilometer's event messages (its "
                     "[publisher_notifier] event_topic); the dispatcher "
                     "consumes the shared queues <topic>.sample. Empty "
                     "to consume raw notifications only."),
    cfg.BoolOpt('raw_notifications',
                default=False,
                help='Also consume the raw notifications of the OpenStack '
                     'services and turn them into events with the event '
                     'definitions, without Ceilometer.'),
    cfg.ListOpt('notification_topics',
                default=['notifications'],
                help='Topics the services send their notifications to. '
                     'Another consumer of the same topic (such as '
                     "Ceilometer's notification agent) competes for the "
                     'same messages: give each its own topic.'),
    cfg.ListOpt('notification_exchanges',
                default=NOTIFICATION_EXCHANGES,
                help='Exchanges the services send their notifications '
                     'to (their [DEFAULT] control_exchange).'),
    cfg.StrOpt('definitions_file',
               help='Event definitions used to normalize raw '
                    "notifications, in Ceilometer's format; a relative "
                    'path is looked up next to the configuration files, '
                    'and a file that is not found stops the dispatcher. '
                    'Unset, an event_definitions.yaml next to the '
                    'configuration files is used if there is one, else '
                    'the definitions panko ships (the same as its sample '
                    'etc/panko/event_definitions.yaml).'),
    cfg.StrOpt('store_raw',
               default='none',
               choices=[('none', 'keep no raw notification'),
                        ('error', 'keep the raw notification of error '
                                  'and critical notifications'),
                        ('all', 'keep every raw notification')],
               help='Which raw notifications to keep in the event.'),
    cfg.IntOpt('max_redeliveries',
               default=10,
               min=1,
               help='Deliveries of a message that failed for a reason '
                    'other than a storage outage (a bug, say) before it '
                    'is set aside as a dead letter instead of being '
                    'requeued again. Counted by each dispatcher worker. '
                    'An outage requeues without limit, and an event that '
                    'is invalid or that the database refuses is set '
                    'aside at once.'),
    cfg.IntOpt('stats_interval',
               default=60,
               min=0,
               help='Seconds between the INFO lines each dispatcher worker '
                    'logs about its work since the previous one: messages '
                    'handled, events stored and their rate, duplicates, '
                    'events rejected and set aside as dead letters, '
                    'messages requeued, and the lag (how long before the '
                    'end of the latest batch its last event was '
                    'generated). 0 logs none.'),
    cfg.FloatOpt('requeue_delay_max',
                 default=30.0,
                 min=0,
                 help='Longest wait, in seconds, before a batch that '
                      'could not be stored is requeued; the wait doubles '
                      'from one second with each failure in a row.'),
]
