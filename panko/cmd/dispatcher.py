"""panko-dispatcher: consume events from the message bus and store them."""

import cotyledon
from oslo_log import log

from panko import service
from panko.dispatcher import workers
from panko.ingestion import definitions

LOG = log.getLogger(__name__)


def main():
    conf = service.prepare_service()
    service.enable_reports(conf)
    workers.set_messaging_defaults(conf)
    try:
        normalizer = workers.load_normalizer(conf)
    except definitions.DefinitionError as e:
        LOG.critical('Cannot load the event definitions: %s', e)
        return 1
    manager = cotyledon.ServiceManager()
    manager.add(workers.DispatcherService,
                workers=conf.dispatcher.workers, args=(conf, normalizer))
    manager.run()
