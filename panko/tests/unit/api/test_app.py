"""What the API application changes in Pecan's behaviour."""

import pecan.compat
import pecan.util

from panko.api import app
from panko.api.controllers.v2 import events


def test_pecan_argspecs_are_read_once_per_function(monkeypatch):
    calls = []

    def counted(function):
        calls.append(function)
        return pecan.compat.getargspec(function)

    monkeypatch.setattr(app, '_pecan_getargspec', counted)
    monkeypatch.setattr(pecan.util, '_getargspec', pecan.util._getargspec)
    app._argspec_of.cache_clear()
    app.remember_pecan_argspecs()
    assert pecan.util._getargspec is app._remembered_argspec
    controller = events.EventsController()
    first = pecan.util.getargspec(controller.get_all)
    assert first == pecan.compat.getargspec(controller.get_all)
    assert first.args[0] == 'self'
    read = len(calls)
    assert read >= 1
    for _ in range(3):
        assert pecan.util.getargspec(
            events.EventsController().get_all) == first
    assert len(calls) == read
    app._argspec_of.cache_clear()
