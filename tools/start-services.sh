#!/bin/bash
# Start the servers the test suite uses where they are installed but
# stopped, and say which ones are still missing.
#
# The servers are PostgreSQL, MariaDB and RabbitMQ at the URLs the tests
# use: $PANKO_TEST_POSTGRESQL_URL, $PANKO_TEST_MYSQL_URL and
# $PANKO_TEST_RABBIT_URL, by default their usual ports on 127.0.0.1.
# A server of this machine that does not answer is started as Debian
# installs it (`service NAME start`, which is systemctl under systemd),
# as root only; a server at another address than 127.0.0.1 or localhost
# is only checked. Prints nothing when every server answers; exits 1 when
# one does not.
#
# As root, the PostgreSQL cluster of this machine at that port (Debian's
# pg_lsclusters) is also made to accept replication connections from
# 127.0.0.1, once: a trust line appended to its pg_hba.conf, then a
# reload. The read-replica tests clone it with pg_basebackup.
set -uo pipefail

# "host port" of a URL; the port is $2 when the URL names none.
address() {
    local rest=${1#*://}
    rest=${rest%%/*}
    rest=${rest##*@}
    if [[ $rest == *:* ]]; then
        echo "${rest%:*} ${rest##*:}"
    else
        echo "$rest $2"
    fi
}

answers() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

installed() {
    [ -e "/etc/init.d/$1" ] ||
        systemctl cat "$1.service" > /dev/null 2>&1
}

# Wait up to a minute for host $1 to answer on port $2.
wait_for() {
    local _
    for _ in $(seq 60); do
        answers "$1" "$2" && return 0
        sleep 1
    done
    return 1
}

names=(PostgreSQL MariaDB RabbitMQ)
services=(postgresql mariadb rabbitmq-server)
packages=(postgresql mariadb-server rabbitmq-server)
urls=("${PANKO_TEST_POSTGRESQL_URL:-postgresql://127.0.0.1:5432}"
      "${PANKO_TEST_MYSQL_URL:-mysql://127.0.0.1:3306}"
      "${PANKO_TEST_RABBIT_URL:-rabbit://127.0.0.1:5672}")
default_ports=(5432 3306 5672)

started=()
missing=0
for i in "${!names[@]}"; do
    read -r host port < <(address "${urls[i]}" "${default_ports[i]}")
    answers "$host" "$port" && continue
    name=${names[i]} service=${services[i]}
    if [[ $host != 127.0.0.1 && $host != localhost ]]; then
        echo "$name does not answer at $host:$port" >&2
    elif ! installed "$service"; then
        echo "$name is not installed (on Debian:" \
            "apt-get install ${packages[i]})" >&2
    elif [ "$(id -u)" != 0 ]; then
        echo "$name is stopped (as root: service $service start)" >&2
    elif echo "Starting $name: service $service start" &&
            service "$service" start; then
        started+=("$i")
        continue
    else
        echo "$name did not start: service $service start failed" >&2
    fi
    missing=1
done

for i in "${started[@]}"; do
    read -r host port < <(address "${urls[i]}" "${default_ports[i]}")
    if ! wait_for "$host" "$port"; then
        echo "${names[i]} did not start: nothing answers at" \
            "$host:$port a minute after service ${services[i]} start" >&2
        missing=1
    fi
done

REPLICATION_LINE='host replication all 127.0.0.1/32 trust'

# Let 127.0.0.1 replicate from the Debian cluster $1 (version) $2 (name).
allow_replication() {
    local hba
    hba=$(pg_conftool "$1" "$2" show hba_file) || return 1
    hba=${hba#*= \'}
    hba=${hba%\'}
    grep -Eq "^${REPLICATION_LINE// /[[:space:]]+}([[:space:]]|\$)" \
        "$hba" && return 0
    echo "Letting 127.0.0.1 replicate from PostgreSQL $1/$2: adding" \
        "'$REPLICATION_LINE' to $hba"
    echo "$REPLICATION_LINE  # panko's read-replica tests" >> "$hba" &&
        pg_ctlcluster "$1" "$2" reload
}

read -r host port < <(address "${urls[0]}" "${default_ports[0]}")
if [[ $(id -u) == 0 && ($host == 127.0.0.1 || $host == localhost) ]] &&
        command -v pg_lsclusters > /dev/null; then
    read -r version cluster < <(pg_lsclusters -h | awk -v port="$port" \
        '$3 == port && $4 == "online" {print $1, $2; exit}')
    if [ -n "$cluster" ] && ! allow_replication "$version" "$cluster"; then
        echo "PostgreSQL $version/$cluster does not let 127.0.0.1" \
            "replicate: add '$REPLICATION_LINE' to its pg_hba.conf" >&2
        missing=1
    fi
fi
exit "$missing"
