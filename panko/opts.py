"""Every panko option, listed once for oslo-config-generator."""

import itertools

import panko.dispatcher
import panko.storage


def list_opts():
    return [
        ('database', itertools.chain(panko.storage.DATABASE_OPTS)),
        ('storage', itertools.chain(panko.storage.STORAGE_OPTS)),
        ('dispatcher', itertools.chain(panko.dispatcher.OPTS)),
    ]
