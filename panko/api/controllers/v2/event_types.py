"""``/v2/event_types``: type names, and (admins) their traits."""

import pecan
from pecan import rest
from wsme import types as wtypes
import wsmeext.pecan as wsme_pecan

from panko import safe_text
from panko.api import errors
from panko.api import rbac
from panko.api.controllers.v2 import base
from panko.api.controllers.v2 import documents
from panko.storage import models


class TraitsController(rest.RestController):
    """``/v2/event_types/{event_type}/traits[/{trait_name}]``."""

    @wsme_pecan.wsexpose([base.TraitDescription], wtypes.text)
    def get_all(self, event_type):
        """The names and types of the traits of ``event_type``."""
        rbac.authorize('context_is_admin')
        return [base.TraitDescription(
                    name=trait['name'],
                    type=models.Trait.TYPE_NAMES[trait['data_type']])
                for trait in pecan.request.storage.get_trait_types(
                    event_type)]

    @wsme_pecan.wsexpose(documents.TRAITS, wtypes.text, wtypes.text)
    def get_one(self, event_type, trait_name):
        """Every value of one trait of the events of ``event_type``."""
        rbac.authorize('context_is_admin')
        return [documents.trait_document(trait)
                for trait in pecan.request.storage.get_traits(
                    event_type, trait_name)]


class EventTypesController(rest.RestController):

    traits = TraitsController()

    @wsme_pecan.wsexpose([wtypes.text])
    def get_all(self):
        """The sorted names of every event type, of every project."""
        rbac.authorize('telemetry:event_types:index')
        return pecan.request.storage.get_event_types()

    @wsme_pecan.wsexpose(None, wtypes.text)
    def get_one(self, event_type):
        """Not a resource: 404, as in Panko, for administrators too."""
        rbac.authorize('context_is_admin')
        raise errors.NotFound('Event type %s has no page of its own; see '
                              '/v2/event_types/%s/traits'
                              % ((safe_text.brief(event_type),) * 2))
