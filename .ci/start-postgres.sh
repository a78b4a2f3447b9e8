# shellcheck shell=bash
# Start a throw-away PostgreSQL for the tests and export REGWATCH_TEST_PG_URL.
#
#   source .ci/start-postgres.sh
#
# Installs Debian's postgresql package when no server is found (needs root and
# apt-get), initialises a cluster in $REGWATCH_PG_DIR (/tmp/regwatch-pg) owned by
# the postgres user, starts it on 127.0.0.1:$REGWATCH_PG_PORT (54329) with trust
# authentication for local connections only, creates the database regwatch_test
# and exports
#
#   REGWATCH_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:54329/regwatch_test
#
# Safe to source again: a running cluster and an existing database are reused.
# It is sourced (by .ci/run, under set -euo pipefail): it returns, never exits.

_regwatch_pg_start() {
    local dir="${REGWATCH_PG_DIR:-/tmp/regwatch-pg}"
    local port="${REGWATCH_PG_PORT:-54329}"
    local db="regwatch_test"
    local bin="" candidate run=()

    for candidate in /usr/lib/postgresql/*/bin; do
        [ -x "$candidate/initdb" ] && bin="$candidate"
    done
    if [ -z "$bin" ]; then
        if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
            echo "start-postgres: no PostgreSQL server and no way to install one (needs root and apt-get)" >&2
            return 1
        fi
        echo "start-postgres: installing Debian's postgresql package" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q postgresql >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postgresql >/dev/null 2>&1; } \
            || { echo "start-postgres: apt-get install postgresql failed" >&2; return 1; }
        for candidate in /usr/lib/postgresql/*/bin; do
            [ -x "$candidate/initdb" ] && bin="$candidate"
        done
        [ -n "$bin" ] || { echo "start-postgres: postgresql installed but initdb not found" >&2; return 1; }
    fi

    # The server refuses to run as root: use the postgres user when we are root.
    if [ "$(id -u)" = "0" ]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /bin/sh postgres
        if command -v runuser >/dev/null 2>&1; then
            run=(runuser -u postgres --)
        else
            run=(su postgres -s /bin/sh -c '"$0" "$@"')
        fi
    fi

    local version
    version="$(basename "$(dirname "$bin")")"
    if [ -f "$dir/PG_VERSION" ] && [ "$(cat "$dir/PG_VERSION")" != "$version" ]; then
        "${run[@]}" "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
        rm -rf "$dir"
    fi
    if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir"
        [ "$(id -u)" = "0" ] && chown postgres: "$dir"
        chmod 700 "$dir"
        "${run[@]}" "$bin/initdb" -D "$dir" -U postgres -A trust --encoding=UTF8 --locale=C >/dev/null \
            || { echo "start-postgres: initdb failed" >&2; return 1; }
    fi
    if ! "${run[@]}" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        "${run[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
            -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
            >/dev/null || { echo "start-postgres: the server did not start; see $dir/server.log" >&2; return 1; }
    fi
    if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db" \
            || { echo "start-postgres: createdb failed" >&2; return 1; }
    fi
    export REGWATCH_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/$db"
    echo "start-postgres: PostgreSQL $version ready: REGWATCH_TEST_PG_URL=$REGWATCH_TEST_PG_URL" >&2
}

_regwatch_pg_start
