# shellcheck shell=bash
#
# test/lib/build.sh: dependency check, build and install of the extension.
# Sourced by test/run and examples/run; run the functions from the
# repository root.
#
#     build_require build server pgtap bats shellcheck
#         Checks what the named needs require; as root, installs the missing
#         Debian packages (one apt-get update, then apt-get install); not as
#         root, prints the apt-get install line to run and returns 1.
#           - build:      make, gcc, pg_config and server headers of PG N
#           - server:     the PG N server binaries and psql
#           - pgtap:      the pgTAP extension and pg_prove
#           - cron:       the pg_cron extension
#           - python:     Debian's python3 with pytest, pytest-asyncio,
#                         FastAPI, SQLAlchemy, psycopg2, psycopg 3, asyncpg,
#                         httpx and Alembic (the example applications' tests,
#                         sync and async, and the Alembic comparison)
#           - bats:       the bats command, and ps
#           - shellcheck: the shellcheck command
#           - valgrind:   the valgrind command
#
#     build_extension
#         make clean; make (warnings are errors); make install (as root, or
#         with sudo -n; otherwise says what to run and returns 1).
#
# PG_MAJOR (default 15, Debian 12's) is the PostgreSQL major version: the
# Debian packages are postgresql-$PG_MAJOR and its kin.  PG_CONFIG defaults
# to /usr/lib/postgresql/$PG_MAJOR/bin/pg_config; both are exported.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "build.sh: this is a library: source it, do not run it" >&2
    exit 2
fi

PG_MAJOR=${PG_MAJOR:-15}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}
export PG_MAJOR PG_CONFIG

# Debian's interpreter, whatever python3 comes first on PATH: the Python
# dependencies are Debian packages.
BUILD_PYTHON=/usr/bin/python3
export BUILD_PYTHON

BUILD_PG_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare"

_BUILD_APT_UPDATED=0

_build_err() {
    printf 'build: %s\n' "$*" >&2
}

# _build_pg_path KIND: a path of the PostgreSQL installation, from PG_CONFIG
# when it works, else Debian's layout for PostgreSQL $PG_MAJOR.
_build_pg_path() {
    local out=""
    case "$1" in
        bindir)    out=$("$PG_CONFIG" --bindir 2>/dev/null) || out="" ;;
        includedir-server) out=$("$PG_CONFIG" --includedir-server 2>/dev/null) || out="" ;;
        sharedir)  out=$("$PG_CONFIG" --sharedir 2>/dev/null) || out="" ;;
    esac
    if [[ -z "$out" ]]; then
        case "$1" in
            bindir)    out=/usr/lib/postgresql/$PG_MAJOR/bin ;;
            includedir-server) out=/usr/include/postgresql/$PG_MAJOR/server ;;
            sharedir)  out=/usr/share/postgresql/$PG_MAJOR ;;
        esac
    fi
    printf '%s\n' "$out"
}

# _build_missing NEED...: prints "package<TAB>what is missing" lines.
_build_missing() {
    local need bindir
    bindir=$(_build_pg_path bindir)
    for need in "$@"; do
        case "$need" in
            build)
                command -v make >/dev/null 2>&1 || printf 'make\tmake\n'
                command -v gcc >/dev/null 2>&1 || printf 'gcc\tgcc\n'
                if [[ ! -x "$PG_CONFIG" ]]; then
                    printf 'postgresql-server-dev-%s\t%s\n' "$PG_MAJOR" "$PG_CONFIG"
                elif [[ ! -f "$(_build_pg_path includedir-server)/postgres.h" ]]; then
                    printf 'postgresql-server-dev-%s\t%s\n' "$PG_MAJOR" "$(_build_pg_path includedir-server)/postgres.h"
                fi
                ;;
            server)
                [[ -x "$bindir/postgres" ]] || printf 'postgresql-%s\t%s\n' "$PG_MAJOR" "$bindir/postgres"
                [[ -x "$bindir/psql" ]] || printf 'postgresql-%s\t%s\n' "$PG_MAJOR" "$bindir/psql"
                ;;
            pgtap)
                [[ -f "$(_build_pg_path sharedir)/extension/pgtap.control" ]] ||
                    printf 'postgresql-%s-pgtap\t%s\n' "$PG_MAJOR" "$(_build_pg_path sharedir)/extension/pgtap.control"
                command -v pg_prove >/dev/null 2>&1 ||
                    printf 'libtap-parser-sourcehandler-pgtap-perl\tpg_prove\n'
                ;;
            cron)
                [[ -f "$(_build_pg_path sharedir)/extension/pg_cron.control" ]] ||
                    printf 'postgresql-%s-cron\t%s\n' "$PG_MAJOR" "$(_build_pg_path sharedir)/extension/pg_cron.control"
                ;;
            python)
                local module package
                for module in pytest:python3-pytest fastapi:python3-fastapi \
                        sqlalchemy:python3-sqlalchemy psycopg2:python3-psycopg2 \
                        httpx:python3-httpx alembic:python3-alembic \
                        asyncpg:python3-asyncpg psycopg:python3-psycopg \
                        pytest_asyncio:python3-pytest-asyncio; do
                    package=${module#*:}
                    module=${module%%:*}
                    "$BUILD_PYTHON" -c "import $module" >/dev/null 2>&1 ||
                        printf '%s\t%s\n' "$package" "$BUILD_PYTHON: module $module"
                done
                ;;
            bats)
                command -v bats >/dev/null 2>&1 || printf 'bats\tbats\n'
                # The bats tests find a process group with ps (not in a
                # minimal Debian, e.g. the matrix's chroots).
                command -v ps >/dev/null 2>&1 || printf 'procps\tps\n'
                ;;
            shellcheck)
                command -v shellcheck >/dev/null 2>&1 || printf 'shellcheck\tshellcheck\n'
                ;;
            valgrind)
                command -v valgrind >/dev/null 2>&1 || printf 'valgrind\tvalgrind\n'
                ;;
            *)
                _build_err "internal error: unknown need '$need'"
                return 1
                ;;
        esac
    done
}

# build_require NEED...
build_require() {
    local missing pkgs
    missing=$(_build_missing "$@") || return 1
    [[ -n "$missing" ]] || return 0

    pkgs=$(cut -f1 <<<"$missing" | awk '!seen[$0]++' | tr '\n' ' ')
    pkgs=${pkgs% }
    _build_err "missing dependencies:"
    awk -F'\t' '{printf "    %-40s (Debian package %s)\n", $2, $1}' <<<"$missing" >&2

    if (( EUID != 0 )); then
        _build_err "install them as root, then run this again:"
        printf '    apt-get install -y --no-install-recommends %s\n' "$pkgs" >&2
        return 1
    fi

    local -a pkg_array
    read -r -a pkg_array <<<"$pkgs"
    if (( _BUILD_APT_UPDATED == 0 )); then
        echo "==> apt-get update" >&2
        if ! DEBIAN_FRONTEND=noninteractive apt-get -q update; then
            _build_err "apt-get update failed"
            return 1
        fi
        _BUILD_APT_UPDATED=1
    fi
    echo "==> apt-get install -y --no-install-recommends ${pkg_array[*]}" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${pkg_array[@]}"; then
        _build_err "apt-get install ${pkg_array[*]} failed"
        return 1
    fi
    hash -r

    missing=$(_build_missing "$@") || return 1
    if [[ -n "$missing" ]]; then
        _build_err "still missing after apt-get install:"
        awk -F'\t' '{printf "    %s\n", $2}' <<<"$missing" >&2
        [[ "$PG_CONFIG" == "/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" ]] ||
            _build_err "(PG_CONFIG=$PG_CONFIG: Debian's packages provide /usr/lib/postgresql/$PG_MAJOR/bin/pg_config)"
        return 1
    fi
    return 0
}

# build_extension: clean, build with warnings as errors, install.
# Output is captured (no temporary files, so nothing is left behind if the
# caller is interrupted) and shown when a step fails.
build_extension() {
    if [[ ! -f Makefile ]]; then
        _build_err "no Makefile in $(pwd)"
        return 1
    fi
    local out jobs
    jobs=$(nproc 2>/dev/null || echo 2)

    echo "==> make clean" >&2
    if ! out=$(make PG_CONFIG="$PG_CONFIG" clean 2>&1); then
        printf '%s\n' "$out" >&2
        _build_err "make clean failed"
        return 1
    fi

    echo "==> make (PG_CFLAGS=$BUILD_PG_CFLAGS)" >&2
    if ! out=$(make -j"$jobs" PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$BUILD_PG_CFLAGS" 2>&1); then
        printf '%s\n' "$out" >&2
        _build_err "the build failed (warnings count as errors)"
        return 1
    fi
    # Show anything the compiler said even when the build passed (clang's
    # bitcode step does not use -Werror).
    grep -E ': (warning|error|note):' <<<"$out" >&2 || true

    echo "==> make install" >&2
    local -a install_cmd=(make PG_CONFIG="$PG_CONFIG" PG_CFLAGS="$BUILD_PG_CFLAGS" install)
    if (( EUID != 0 )); then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            install_cmd=(sudo -n "${install_cmd[@]}")
        else
            _build_err "make install needs root: run"
            printf '    sudo make PG_CONFIG=%q install\n' "$PG_CONFIG" >&2
            _build_err "then run this again with --no-install"
            return 1
        fi
    fi
    if ! out=$("${install_cmd[@]}" 2>&1); then
        printf '%s\n' "$out" >&2
        _build_err "make install failed"
        return 1
    fi
    return 0
}
