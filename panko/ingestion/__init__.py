"""The ingestion core shared by every door events come in through.

The dispatcher (oslo.messaging), the ``panko://`` Ceilometer publisher and
the API's ``POST /v2/events`` all turn their input into
:class:`panko.storage.models.Event` objects here and record them with
:func:`panko.ingestion.recorder.record`, so that validation, rejection
reasons and batching behave the same whatever the door.
"""
