#!/bin/sh
# Run the test suite in a virtualenv of its own (.venv, or $PANKO_VENV).
# Arguments are passed to pytest.
set -e
cd "$(dirname "$0")/.."
venv=${PANKO_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e . -r test-requirements.txt
exec "$venv/bin/python" -m pytest "$@"
