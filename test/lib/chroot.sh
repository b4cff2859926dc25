# shellcheck shell=bash
#
# test/lib/chroot.sh: run test/run against a PostgreSQL major version that
# this machine's Debian release does not ship, in a Debian chroot of the
# release that does.  Sourced by test/run for "--pg N" (see its --help).
#
#     chroot_suite MAJOR        the Debian suite whose default PostgreSQL is
#                               MAJOR: 15 bookworm, 17 trixie, 18 sid
#     chroot_local_major        the major version this machine's Debian
#                               release ships (empty if unknown)
#     chroot_host_tools         installs debootstrap here if it is missing
#     chroot_prepare MAJOR      builds MAJOR's chroot unless a good one is
#                               cached; holds the suite's lock (fd 9) until
#                               the caller ends or closes it
#     chroot_test_run MAJOR ARGS...
#                               builds or reuses the suite's chroot, copies
#                               the checkout into it and runs
#                               "test/run --pg MAJOR ARGS..." there; returns
#                               its exit status
#
# Installing trixie's or sid's PostgreSQL on a bookworm host would upgrade
# its libc, so each suite gets a chroot of its own: debootstrap
# --variant=minbase, then the packages test/run asks for.  Chroots are
# cached in $MATRIX_CACHE/<suite> (default /var/cache/migrate-matrix,
# outside the checkout) and reused while their stamp file, written last, is
# there and the suite's pg_config runs inside; otherwise they are rebuilt.
# A lock per suite keeps two runs from sharing (or rebuilding) one chroot.
#
# Environment: MATRIX_CACHE, MATRIX_MIRROR (default http://deb.debian.org/debian),
# MATRIX_REBUILD=1 (rebuild even a good chroot).

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    echo "chroot.sh: this is a library: source it, do not run it" >&2
    exit 2
fi

MATRIX_CACHE=${MATRIX_CACHE:-/var/cache/migrate-matrix}
MATRIX_MIRROR=${MATRIX_MIRROR:-http://deb.debian.org/debian}

# The layers and environment variables test/run honours, passed inside.
_CHROOT_PASS_ENV=(CI PGTAP_FILES SH_FILES PYTEST_FILES REGRESS_TIMEOUT
    PGTAP_TIMEOUT SH_TIMEOUT PYTEST_TIMEOUT BATS_TIMEOUT FUZZ_SEED)

_chroot_err() {
    printf 'chroot: %s\n' "$*" >&2
}

chroot_suite() {
    case "$1" in
        15) echo bookworm ;;
        17) echo trixie ;;
        18) echo sid ;;
        *) return 1 ;;
    esac
}

chroot_local_major() {
    local codename=""
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true
    case "$codename" in
        bookworm) echo 15 ;;
        trixie) echo 17 ;;
        forky) echo 18 ;; # sid's os-release names the next testing release
    esac
}

# _chroot_mounted DIR: prints the mount points at or under DIR.
_chroot_mounted() {
    awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# _chroot_kill_inside DIR: ends the processes whose root is DIR (a server a
# killed run left behind keeps /proc busy).  They are this run's: the suite's
# lock is held.
_chroot_kill_inside() {
    local dir=$1 p root pids=()
    for p in /proc/[0-9]*; do
        root=$(readlink "$p/root" 2>/dev/null) || continue
        [[ "$root" == "$dir" ]] && pids+=("${p#/proc/}")
    done
    (( ${#pids[@]} )) || return 0
    _chroot_err "ending processes left in $dir: ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    sleep 2
    kill -KILL "${pids[@]}" 2>/dev/null || true
}

# _chroot_umount DIR: unmounts what this library mounted in DIR.
_chroot_umount() {
    local dir=$1 m
    [[ -n "$dir" ]] || return 0
    _chroot_kill_inside "$dir"
    for m in "$dir/dev/shm" "$dir/proc"; do
        if mountpoint -q "$m" 2>/dev/null; then
            umount "$m" 2>/dev/null || umount -l "$m" || _chroot_err "could not unmount $m"
        fi
    done
}

# _chroot_mount DIR: /proc (ps, pg_ctl, Python) and a tmpfs /dev/shm (the
# server's dynamic shared memory) inside DIR.
_chroot_mount() {
    local dir=$1
    _chroot_umount "$dir"
    mount -t proc proc "$dir/proc" || return 1
    mkdir -p "$dir/dev/shm"
    mount -t tmpfs -o mode=1777,size=1g shm "$dir/dev/shm" || return 1
}

# _chroot_sh DIR CMD...: CMD inside DIR with a clean environment.
_chroot_sh() {
    local dir=$1
    shift
    chroot "$dir" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" DEBIAN_FRONTEND=noninteractive \
        "$@"
}

# _chroot_ok DIR MAJOR: the stamp is there and the suite's pg_config runs.
_chroot_ok() {
    [[ -f "$1/.migrate-matrix-stamp" ]] &&
        _chroot_sh "$1" "/usr/lib/postgresql/$2/bin/pg_config" --version >/dev/null 2>&1
}

# _chroot_copy_checkout ROOT DEST: the git-tracked files and the working
# changes (new files too, ignored ones not) of the checkout ROOT, into DEST.
_chroot_copy_checkout() {
    local root=$1 dest=$2
    rm -rf --one-file-system -- "$dest"
    mkdir -p "$dest"
    if command -v git >/dev/null 2>&1 && git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
        # ls-files -c also names tracked files deleted in the work tree.
        (cd "$root" && git ls-files -co --exclude-standard -z |
            while IFS= read -r -d '' f; do
                [[ -e "$f" || -L "$f" ]] && printf '%s\0' "$f"
            done | tar --null -T - -cf -) | tar -C "$dest" -xf -
    else
        (cd "$root" && tar --exclude=./.git -cf - .) | tar -C "$dest" -xf -
    fi
}

# _chroot_build DIR SUITE MAJOR ROOT LOG: debootstrap, then the packages
# that test/lib/build.sh of the checkout ROOT asks for; the stamp last.
_chroot_build() {
    local dir=$1 suite=$2 major=$3 root=$4 log=$5 m
    local -a needs=(build server pgtap cron python bats)

    if [[ -e "$dir" ]]; then
        m=$(_chroot_mounted "$dir")
        if [[ -n "$m" ]]; then
            _chroot_err "not removing $dir: still mounted there: $m"
            return 1
        fi
        rm -rf --one-file-system -- "$dir" || return 1
    fi
    chroot_host_tools >>"$log" 2>&1 || {
        _chroot_err "apt-get install debootstrap failed; the end of $log:"
        tail -n 20 "$log" | sed 's/^/    /' >&2
        return 1
    }
    echo "    debootstrap --variant=minbase $suite (log: $log)"
    # sid's keyring check works as for the others; its Release file's
    # Valid-Until is handled by apt's configuration below.
    debootstrap --variant=minbase "$suite" "$dir" "$MATRIX_MIRROR" >>"$log" 2>&1 || {
        _chroot_err "debootstrap $suite failed; the end of $log:"
        tail -n 20 "$log" | sed 's/^/    /' >&2
        return 1
    }

    # No service starts inside (a package's postinst would start a server
    # on port 5432), no "main" cluster is created, no recommends.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 0755 "$dir/usr/sbin/policy-rc.d"
    mkdir -p "$dir/etc/postgresql-common"
    echo "create_main_cluster = false" >"$dir/etc/postgresql-common/createcluster.conf"
    {
        echo 'APT::Install-Recommends "false";'
        # sid's Release file may be past its Valid-Until date.
        [[ "$suite" != sid ]] || echo 'Acquire::Check-Valid-Until "false";'
    } >"$dir/etc/apt/apt.conf.d/90migrate-matrix"

    echo "    packages for: ${needs[*]} (PostgreSQL $major)"
    _chroot_copy_checkout "$root" "$dir/root/migrate" || return 1
    _chroot_mount "$dir" || { _chroot_umount "$dir"; return 1; }
    local rc=0
    _chroot_sh "$dir" PG_MAJOR="$major" bash -c \
        'cd /root/migrate && source test/lib/build.sh && build_require "$@" && apt-get clean' \
        build-require "${needs[@]}" >>"$log" 2>&1 || rc=$?
    _chroot_umount "$dir"
    if (( rc != 0 )); then
        _chroot_err "installing the packages failed; the end of $log:"
        tail -n 30 "$log" | sed 's/^/    /' >&2
        return 1
    fi
    printf 'suite=%s major=%s built=%s\n' "$suite" "$major" "$(date -u +%FT%TZ)" \
        >"$dir/.migrate-matrix-stamp"
}

chroot_host_tools() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    echo "==> apt-get install debootstrap (on this machine)"
    DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update &&
        DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 \
            install -y --no-install-recommends debootstrap
}

# chroot_prepare MAJOR: sets _CHROOT_DIR, _CHROOT_SUITE and _CHROOT_NOTE
# (reused or built, and when).
chroot_prepare() {
    local major=$1 suite root dir log start
    _CHROOT_NOTE=""
    suite=$(chroot_suite "$major") || {
        _chroot_err "no Debian suite known for PostgreSQL $major (known: 15 bookworm, 17 trixie, 18 sid)"
        return 1
    }
    if (( EUID != 0 )); then
        _chroot_err "a chroot needs root (debootstrap, mount, chroot)"
        return 1
    fi
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
    dir="$MATRIX_CACHE/$suite"
    log="$MATRIX_CACHE/$suite.build.log"
    mkdir -p "$MATRIX_CACHE" || return 1
    _CHROOT_DIR=$dir
    _CHROOT_SUITE=$suite

    exec 9>"$MATRIX_CACHE/$suite.lock"
    if ! flock -n 9; then
        echo "chroot: $dir is in use by another run; waiting for it"
        flock 9
    fi

    printf '\n==> chroot %s (PostgreSQL %s): %s\n' "$suite" "$major" "$dir"
    start=$SECONDS
    if [[ "${MATRIX_REBUILD:-0}" != 1 ]] && _chroot_ok "$dir" "$major"; then
        _CHROOT_NOTE="reused ($(sed -n 's/.*built=\(.*\)/built \1/p' "$dir/.migrate-matrix-stamp"))"
    else
        : >"$log"
        _chroot_build "$dir" "$suite" "$major" "$root" "$log" || return 1
        # The stamp says how long the build took, for the summary.
        sed -i "s/\$/ in $(( SECONDS - start ))s/" "$dir/.migrate-matrix-stamp"
        _CHROOT_NOTE="built in $(( SECONDS - start ))s"
    fi
    echo "    $_CHROOT_NOTE"
}

chroot_test_run() {
    local major=$1 dir note rc=0
    shift
    if ! chroot_prepare "$major"; then
        printf '\n==> summary\n    %-11s %s\n\n0 passed, 1 failed\n' chroot \
            "FAILED: no chroot, nothing ran on PostgreSQL $major"
        exec 9>&-
        return 1
    fi
    dir=$_CHROOT_DIR
    note=$_CHROOT_NOTE
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

    local -a env=(MATRIX_IN_CHROOT=1 "MATRIX_CHROOT_NOTE=$_CHROOT_SUITE, $dir: $note")
    local v
    for v in "${_CHROOT_PASS_ENV[@]}"; do
        [[ -z "${!v+x}" ]] || env+=("$v=${!v}")
    done

    _CHROOT_DIR=$dir
    _CHROOT_CHILD=""
    trap '_chroot_umount "$_CHROOT_DIR"' EXIT
    trap '_chroot_signal 130' INT
    trap '_chroot_signal 143' TERM
    cp -f /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
    cp -f /etc/hosts "$dir/etc/hosts" 2>/dev/null || true
    _chroot_copy_checkout "$root" "$dir/root/migrate" &&
        _chroot_mount "$dir" || {
        _chroot_err "could not prepare $dir"
        printf '\n==> summary\n    %-11s %s\n\n0 passed, 1 failed\n' chroot "FAILED: could not mount or copy into $dir"
        return 1
    }
    # In the background, so that a signal reaches the trap at once; the
    # trap passes it on and waits for the run to stop its cluster.
    _chroot_sh "$dir" "${env[@]}" bash -c 'cd /root/migrate && exec test/run "$@"' \
        test-run --pg "$major" "$@" &
    _CHROOT_CHILD=$!
    wait "$_CHROOT_CHILD" || rc=$?
    _CHROOT_CHILD=""
    _chroot_umount "$dir"
    trap - EXIT INT TERM
    exec 9>&-
    return "$rc"
}

_chroot_signal() {
    trap - INT TERM
    if [[ -n "${_CHROOT_CHILD:-}" ]]; then
        kill -TERM "$_CHROOT_CHILD" 2>/dev/null || true
        wait "$_CHROOT_CHILD" 2>/dev/null || true
    fi
    exit "$1"
}
