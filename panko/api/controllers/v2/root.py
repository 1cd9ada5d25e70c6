"""The root of ``/v2``."""

from panko.api.controllers.v2 import capabilities
from panko.api.controllers.v2 import event_types
from panko.api.controllers.v2 import events


class V2Controller:
    events = events.EventsController()
    event_types = event_types.EventTypesController()
    capabilities = capabilities.CapabilitiesController()
