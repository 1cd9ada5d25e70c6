"""Every panko option, listed once for oslo-config-generator."""

import itertools

import panko.api
import panko.dispatcher
import panko.storage


def list_opts():
    return [
        ('api', itertools.chain(panko.api.OPTS)),
        ('database', itertools.chain(panko.storage.DATABASE_OPTS)),
        ('storage', itertools.chain(panko.storage.STORAGE_OPTS)),
        ('dispatcher', itertools.chain(panko.dispatcher.OPTS)),
    ]
