# shellcheck shell=bash
#
# test/lib/cluster.sh: a throwaway PostgreSQL cluster for tests.
#
# Source this file (do not execute it), then:
#
#     trap cluster_stop EXIT
#     cluster_start ["postgresql.conf line" ...]
#     psql -c 'SELECT 1'          # PG* variables point at the new cluster
#     cluster_stop                # optional: the trap does it too
#
# cluster_start creates a temporary directory, runs initdb in it, writes the
# configuration, starts the server on a free port of 127.0.0.1 and exports
#
#     PGHOST PGPORT PGUSER=postgres PGDATABASE=postgres
#     CLUSTER_DIR     the temporary directory; also the Unix socket directory
#     CLUSTER_DATA    the data directory ($CLUSTER_DIR/data)
#     CLUSTER_LOG     the server log file
#     CLUSTER_BINDIR  the PostgreSQL bin directory (initdb, pg_ctl, psql, ...)
#
# Run as root, the server runs as the OS user "postgres" (or
# $CLUSTER_OS_USER): PostgreSQL refuses to run as root.  Otherwise it runs as
# the current user.
#
# Other helpers:
#     cluster_log_tail [N]      last N (default 50) lines of the server log
#     cluster_psql ARGS...      psql -X -v ON_ERROR_STOP=1 ARGS... (cluster's bin)
#     cluster_as_owner CMD...   run CMD as the OS user that owns the cluster,
#                               e.g. pg_basebackup into $CLUSTER_DIR/standby
#
# cluster_stop stops every server whose data directory is a direct
# subdirectory of $CLUSTER_DIR (so a standby made in $CLUSTER_DIR/standby is
# stopped too), then removes $CLUSTER_DIR.  It is safe to call twice, or after
# cluster_start failed half-way, and it only acts in the shell that called
# cluster_start (not in subshells or in child scripts that source this file).
#
# CLUSTER_POSTGRES, if set, is the program pg_ctl starts instead of the
# installation's postgres (pg_ctl -p): a wrapper that runs the server under
# valgrind, for example.  It must be executable by the cluster's OS user.
#
# PG_CONFIG selects the PostgreSQL installation; if it is unset,
# /usr/lib/postgresql/$PG_MAJOR/bin/pg_config (PG_MAJOR default 15) is used
# when it exists, else the pg_config on PATH.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "cluster.sh: this is a library: source it, do not run it" >&2
    exit 2
fi

# Internal state; deliberately not exported, so that child processes never
# act on the parent's cluster.
_CLUSTER_TMP=${_CLUSTER_TMP:-}
_CLUSTER_OWNER_PID=${_CLUSTER_OWNER_PID:-}
_CLUSTER_OS_USER=${_CLUSTER_OS_USER:-}
_CLUSTER_BINDIR=${_CLUSTER_BINDIR:-}

_cluster_err() {
    printf 'cluster: %s\n' "$*" >&2
}

_cluster_pg_config() {
    if [[ -n "${PG_CONFIG:-}" ]]; then
        if [[ -x "$PG_CONFIG" ]] || command -v "$PG_CONFIG" >/dev/null 2>&1; then
            printf '%s\n' "$PG_CONFIG"
            return 0
        fi
        _cluster_err "PG_CONFIG=$PG_CONFIG is not executable"
        return 1
    fi
    local debian="/usr/lib/postgresql/${PG_MAJOR:-15}/bin/pg_config"
    if [[ -x "$debian" ]]; then
        printf '%s\n' "$debian"
        return 0
    fi
    if command -v pg_config >/dev/null 2>&1; then
        command -v pg_config
        return 0
    fi
    _cluster_err "no pg_config found (install postgresql-${PG_MAJOR:-15} and postgresql-server-dev-${PG_MAJOR:-15}, or set PG_CONFIG)"
    return 1
}

# _cluster_owner: the OS user that runs servers: as root, $CLUSTER_OS_USER
# or postgres; otherwise empty (the current user).
_cluster_owner() {
    if (( EUID == 0 )); then
        printf '%s\n' "${_CLUSTER_OS_USER:-${CLUSTER_OS_USER:-postgres}}"
    fi
}

# cluster_as_owner CMD [ARGS...]: run CMD as the cluster's OS user, from a
# directory that user can enter.
cluster_as_owner() {
    local dir="${CLUSTER_DIR:-/}" owner
    owner=$(_cluster_owner)
    [[ -d "$dir" ]] || dir=/
    if [[ -n "$owner" ]]; then
        (cd "$dir" && runuser -u "$owner" -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

# _cluster_as_owner_to FILE CMD [ARGS...]: cluster_as_owner, with the output
# to FILE and input from /dev/null.  The redirections happen inside the
# subshell, so the caller's file descriptors stay as they are even if a
# signal trap runs meanwhile.
_cluster_as_owner_to() {
    local out=$1 dir="${CLUSTER_DIR:-/}" owner
    shift
    owner=$(_cluster_owner)
    [[ -d "$dir" ]] || dir=/
    if [[ -n "$owner" ]]; then
        (exec >"$out" 2>&1 </dev/null && cd "$dir" && runuser -u "$owner" -- "$@")
    else
        (exec >"$out" 2>&1 </dev/null && cd "$dir" && "$@")
    fi
}

# _cluster_port_in_use PORT: true if something accepts TCP connections on
# 127.0.0.1:PORT.
_cluster_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _cluster_mktemp: create the temporary directory, usable by the server's OS
# user, with a path short enough for a Unix socket.  Prints it.
_cluster_mktemp() {
    local base tmp
    for base in "${TMPDIR:-/tmp}" /tmp; do
        tmp=$(mktemp -d "${base%/}/pgtest.XXXXXX" 2>/dev/null) || continue
        if (( ${#tmp} > 80 )); then
            rmdir "$tmp"
            continue
        fi
        if [[ -n "$_CLUSTER_OS_USER" ]]; then
            if ! chown "$_CLUSTER_OS_USER:" "$tmp"; then
                rm -rf "$tmp"
                continue
            fi
            chmod 0755 "$tmp"
            # Every directory component must be traversable by that user.
            if ! (cd / && runuser -u "$_CLUSTER_OS_USER" -- test -w "$tmp" -a -x "$tmp"); then
                rm -rf "$tmp"
                continue
            fi
        else
            chmod 0755 "$tmp"
        fi
        printf '%s\n' "$tmp"
        return 0
    done
    _cluster_err "could not create a temporary directory usable by ${_CLUSTER_OS_USER:-$(id -un)} (tried ${TMPDIR:-/tmp} and /tmp)"
    return 1
}

# cluster_start [EXTRA_CONF_LINE...]
cluster_start() {
    if [[ -n "$_CLUSTER_TMP" ]]; then
        _cluster_err "cluster_start: a cluster is already running in $_CLUSTER_TMP"
        return 1
    fi

    local pg_config bindir bin
    pg_config=$(_cluster_pg_config) || return 1
    bindir=$("$pg_config" --bindir) || {
        _cluster_err "$pg_config --bindir failed"
        return 1
    }
    for bin in initdb pg_ctl postgres psql; do
        if [[ ! -x "$bindir/$bin" ]]; then
            _cluster_err "$bindir/$bin not found (Debian: apt-get install postgresql-${PG_MAJOR:-15})"
            return 1
        fi
    done

    _CLUSTER_OS_USER=""
    if (( EUID == 0 )); then
        _CLUSTER_OS_USER=${CLUSTER_OS_USER:-postgres}
        if ! id -u "$_CLUSTER_OS_USER" >/dev/null 2>&1; then
            _cluster_err "running as root, but there is no OS user '$_CLUSTER_OS_USER' to run the server (it comes with postgresql-common; or set CLUSTER_OS_USER)"
            _CLUSTER_OS_USER=""
            return 1
        fi
        if ! command -v runuser >/dev/null 2>&1; then
            _cluster_err "running as root needs runuser (util-linux)"
            _CLUSTER_OS_USER=""
            return 1
        fi
    fi

    local tmp
    tmp=$(_cluster_mktemp) || return 1
    # From here on cluster_stop cleans up, even if we fail half-way.
    _CLUSTER_TMP=$tmp
    _CLUSTER_OWNER_PID=$BASHPID
    _CLUSTER_BINDIR=$bindir
    export CLUSTER_DIR="$tmp"
    export CLUSTER_DATA="$tmp/data"
    export CLUSTER_LOG="$tmp/postgresql.log"
    export CLUSTER_BINDIR="$bindir"

    if ! _cluster_as_owner_to "$tmp/initdb.out" "$bindir/initdb" -D "$CLUSTER_DATA" \
            -U postgres --auth=trust -E UTF8 --locale=C --no-sync; then
        _cluster_err "initdb failed:"
        sed 's/^/    /' "$tmp/initdb.out" >&2
        return 1
    fi

    # Our settings live in an included file, rewritten for each port we try.
    local conf="$CLUSTER_DATA/cluster_sh.conf"
    printf "\ninclude 'cluster_sh.conf'\n" >>"$CLUSTER_DATA/postgresql.conf"

    local tries=0 port="" line
    while (( tries++ < 8 )); do
        port=$(( 20000 + RANDOM % 20001 ))
        if _cluster_port_in_use "$port"; then
            continue
        fi
        {
            echo "# written by test/lib/cluster.sh"
            echo "listen_addresses = '127.0.0.1'"
            echo "port = $port"
            echo "unix_socket_directories = '$tmp'"
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
            echo "max_connections = 100"
            echo "wal_level = replica"
            echo "max_wal_senders = 4"
            echo "hot_standby = on"
            echo "logging_collector = off"
            echo "log_min_messages = warning"
            for line in "$@"; do
                printf '%s\n' "$line"
            done
        } >"$conf"
        if [[ -n "$_CLUSTER_OS_USER" ]]; then
            chown "$_CLUSTER_OS_USER:" "$conf"
        fi
        chmod 0600 "$conf"

        local -a server=()
        [[ -z "${CLUSTER_POSTGRES:-}" ]] || server=(-p "$CLUSTER_POSTGRES")
        if _cluster_as_owner_to "$tmp/pg_ctl.out" "$bindir/pg_ctl" -D "$CLUSTER_DATA" \
                ${server[@]+"${server[@]}"} -l "$CLUSTER_LOG" -w -t 120 start; then
            export PGHOST="$tmp" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
            # These would send libpq somewhere else.
            unset PGHOSTADDR PGSERVICE PGSERVICEFILE
            printf 'cluster: PostgreSQL %s on 127.0.0.1:%s, socket dir %s, log %s\n' \
                "$("$bindir/postgres" -V | awk '{print $3}')" "$port" "$tmp" "$CLUSTER_LOG" >&2
            return 0
        fi
        if grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' \
                "$CLUSTER_LOG" 2>/dev/null; then
            # Someone took the port meanwhile: try another one.
            mv -f "$CLUSTER_LOG" "$CLUSTER_LOG.port-$port" 2>/dev/null || true
            continue
        fi
        break
    done
    _cluster_err "the server did not start (last port tried: ${port:-none}); pg_ctl said:"
    sed 's/^/    /' "$tmp/pg_ctl.out" >&2 2>/dev/null || true
    if [[ -f "$CLUSTER_LOG" ]]; then
        _cluster_err "server log ($CLUSTER_LOG):"
        tail -n 30 "$CLUSTER_LOG" | sed 's/^/    /' >&2
    fi
    return 1
}

# cluster_stop: stop the server(s) and remove the temporary directory.
# Always returns 0, so it is safe in traps.
cluster_stop() {
    local tmp="$_CLUSTER_TMP"
    [[ -n "$tmp" ]] || return 0
    # Only the shell that started the cluster may stop it.
    [[ "$_CLUSTER_OWNER_PID" == "$BASHPID" ]] || return 0

    local pidfile datadir pid
    if [[ -n "$_CLUSTER_BINDIR" ]]; then
        for pidfile in "$tmp"/*/postmaster.pid; do
            [[ -f "$pidfile" ]] || continue
            datadir=${pidfile%/postmaster.pid}
            if _cluster_as_owner_to /dev/null "$_CLUSTER_BINDIR/pg_ctl" -D "$datadir" \
                    -m fast -w -t 60 stop; then
                continue
            fi
            [[ -f "$pidfile" ]] || continue
            _cluster_as_owner_to /dev/null "$_CLUSTER_BINDIR/pg_ctl" -D "$datadir" \
                -m immediate -w -t 30 stop && continue
            [[ -f "$pidfile" ]] || continue
            pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
            if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                _cluster_err "server $datadir did not stop; killing pid $pid"
                kill -KILL "$pid" 2>/dev/null || true
                sleep 1
            fi
        done
    fi

    case "$tmp" in
        */pgtest.*) [[ -d "$tmp" ]] && rm -rf -- "$tmp" ;;
    esac

    if [[ "${PGHOST:-}" == "$tmp" ]]; then
        unset PGHOST PGPORT
    fi
    unset CLUSTER_DIR CLUSTER_DATA CLUSTER_LOG CLUSTER_BINDIR
    _CLUSTER_TMP=""
    _CLUSTER_OWNER_PID=""
    _CLUSTER_OS_USER=""
    _CLUSTER_BINDIR=""
    return 0
}

# cluster_log_tail [N]: the last N lines (default 50) of the server log.
cluster_log_tail() {
    local n="${1:-50}"
    if [[ -n "${CLUSTER_LOG:-}" && -f "$CLUSTER_LOG" ]]; then
        tail -n "$n" -- "$CLUSTER_LOG"
    else
        _cluster_err "no server log"
        return 1
    fi
}

# cluster_psql ARGS...: the cluster's psql, without psqlrc, stopping on errors.
cluster_psql() {
    local bindir="${CLUSTER_BINDIR:-}"
    if [[ -z "$bindir" ]]; then
        bindir=$("$(_cluster_pg_config)" --bindir) || return 1
    fi
    "$bindir/psql" -X -v ON_ERROR_STOP=1 "$@"
}
