"""panko-dispatcher: consume events from the message bus and store them."""

import cotyledon

from panko import service
from panko.dispatcher import service as dispatcher_service


def main():
    conf = service.prepare_service()
    service.enable_reports(conf)
    dispatcher_service.set_messaging_defaults(conf)
    normalizer = dispatcher_service.load_normalizer(conf)
    manager = cotyledon.ServiceManager()
    manager.add(dispatcher_service.DispatcherService,
                workers=conf.dispatcher.workers, args=(conf, normalizer))
    manager.run()
