"""``/v2/events``: list events, or show one, as the caller may see them,
and record the events Ceilometer's ``http://`` publisher posts.
"""

import pecan
from pecan import rest
from wsme import types as wtypes
import wsmeext.pecan as wsme_pecan

from panko import safe_text
from panko import storage
from panko.api import errors
from panko.api import query
from panko.api import rbac
from panko.api.controllers.v2 import base
from panko.api.controllers.v2 import documents
from panko.ingestion import recorder
from panko.ingestion import wire
from panko.storage import models


class EventsController(rest.RestController):

    @wsme_pecan.wsexpose(documents.EVENTS, [base.Query], int, [wtypes.text],
                         wtypes.text)
    def get_all(self, q=None, limit=None, sort=None, marker=None):
        """Events matching ``q``, one page in the order ``sort`` asks."""
        rbac.authorize_events('telemetry:events:index')
        event_filter, all_tenants = query.event_filter(q)
        rbac.restrict(event_filter, all_tenants)
        page = query.pagination(pecan.request.cfg, limit, sort, marker)
        try:
            events = pecan.request.storage.get_events(
                event_filter, page, raw_as_json=True)
        except storage.InvalidMarker:
            raise errors.InvalidInput('marker', marker,
                                      'no such event is visible to you')
        return [documents.event_document(event) for event in events]

    @wsme_pecan.wsexpose(documents.EVENT, wtypes.text, wtypes.text)
    def get_one(self, message_id, all_tenants=None):
        """One event; another project's is 404 unless all_tenants."""
        rbac.authorize_events('telemetry:events:show')
        event_filter = rbac.restrict(
            models.EventFilter(message_id=message_id),
            query.parse_boolean_parameter('all_tenants', all_tenants))
        events = pecan.request.storage.get_events(
            event_filter, models.Pagination(limit=1), raw_as_json=True)
        if not events:
            raise errors.NotFound('Event %s not found'
                                  % safe_text.brief(message_id))
        return documents.event_document(events[0])

    @wsme_pecan.wsexpose(base.RecordSummary, body=base.RAW,
                         status_code=201)
    def post(self, body=None):
        """Record a list of serialized events, or one; count the results.

        The checks (panko.ingestion.wire) and the recording
        (panko.ingestion.recorder) are the ingestion core's, shared with
        the dispatcher.
        """
        rbac.authorize(rbac.CREATE_RULE)
        try:
            events, rejected = wire.parse_body(
                body, pecan.request.cfg.dispatcher.telemetry_secret)
        except wire.InvalidBody as e:
            raise errors.InvalidBody(str(e))
        result = recorder.record(pecan.request.storage, events, rejected,
                                 door='api')
        return base.RecordSummary.from_result(result)
