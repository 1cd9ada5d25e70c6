#!/bin/sh
# Run the test suite in a virtualenv of its own (.venv, or $PANKO_VENV).
# Arguments are passed to pytest.
#
# The tests use PostgreSQL, MariaDB and RabbitMQ: tools/start-services.sh
# starts those that are installed but stopped and names those missing.
# Their tests are then skipped, or fail when CI=true.
set -e
cd "$(dirname "$0")/.."
venv=${PANKO_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e . -r test-requirements.txt
if ! tools/start-services.sh; then
    if [ "${CI:-}" = true ]; then
        echo "CI=true: the tests that need them will fail" >&2
    else
        echo "The tests that need them will be skipped" >&2
    fi
fi
exec "$venv/bin/python" -m pytest "$@"
