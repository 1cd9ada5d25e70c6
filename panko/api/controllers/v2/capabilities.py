"""``/v2/capabilities``: what the API and the storage driver support."""

import pecan
from pecan import rest
from wsme import types as wtypes
import wsmeext.pecan as wsme_pecan


class Capabilities(wtypes.Base):
    """Flags named like ``events:query:simple``, each true or false."""

    api = {wtypes.text: bool}
    event_storage = {wtypes.text: bool}


def flatten(capabilities, prefix=''):
    """``{'a': {'b': True}}`` as ``{'a:b': True}``."""
    flags = {}
    for key, value in capabilities.items():
        if isinstance(value, dict):
            flags.update(flatten(value, prefix + key + ':'))
        else:
            flags[prefix + key] = value
    return flags


class CapabilitiesController(rest.RestController):

    @wsme_pecan.wsexpose(Capabilities)
    def get(self):
        driver = pecan.request.storage
        return Capabilities(
            api=flatten(driver.get_capabilities()),
            event_storage=flatten(driver.get_storage_capabilities()))
