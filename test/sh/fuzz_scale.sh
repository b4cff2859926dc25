#!/usr/bin/env bash
# Bad input, at scale: what test/sh/fuzz.sh (small graphs, SQL only) does
# not reach.
#
#  1. Scale, through the SQL functions: a 50,000-revision chain registered
#     in one statement, upgraded to head and downgraded to base; 5,000
#     branches off one root, upgrade('heads'), merge() of them all; 100 MB
#     scripts (one statement with a 100 MB literal, 100 MB of statements, a
#     DO block with a big literal): each succeeds with the script stored
#     byte for byte and run, or fails with an ERROR that has an SQLSTATE.
#     Against the big graphs, hostile and very long targets, ids, labels,
#     parents and messages go through upgrade, downgrade, plan, require,
#     revision, merge, stamp, forget and run: each call succeeds or fails
#     with an SQLSTATE (never XX) and a message, and after a failure the
#     catalog is what it was.
#  2. The tar reader: random and targeted damage to the archive that
#     pg_migrate sends (sizes, types, names, long names, pax records,
#     checksums, cuts) through migrate.files(), check_files() and sync(): an
#     error with an SQLSTATE, or rows whose text is valid UTF-8.
#  3. pg_migrate: a folder of branch files merged and a 100 MB revision
#     file; then hostile input, a fixed list of the nastiest and more from a
#     seeded random generator: messages, --rev-id, --head, --depends-on,
#     --branch-label, merge's revisions, targets, --format, --schema, --dir
#     folders, file names, hand-written headers and scripts holding $(...),
#     backticks, ";", quotes, $pgm_0, psql meta-commands, newlines, invalid
#     UTF-8, NUL bytes and very long values.  Every command succeeds, or
#     exits 1 or 2 with a message and never a psql syntax error that names
#     no file; no marker file that a $(touch ...), `touch ...` or \! touch
#     would create ever appears; after a failure the catalog and the folder
#     are unchanged; a "revision" or "merge" that succeeded leaves a folder
#     the next command reads; a file holding a NUL byte or invalid UTF-8 is
#     refused naming the file (README's promise).
#  4. The server log from the start of the test shows no "terminated by
#     signal", "PANIC" or "TRAP:".
#
# Knobs: FUZZ_SEED (an integer; fuzz.sh's 0.NNN form works too: its digits
# are used) repeats a run; FUZZ_CHAIN (50000), FUZZ_BRANCHES (5000),
# FUZZ_SCRIPT_MB (100), FUZZ_PROBES (20 random SQL probes per graph),
# FUZZ_TAR_ROUNDS (1000), FUZZ_CLI_ROUNDS (50 random pg_migrate cases),
# FUZZ_CLI_BRANCHES (2000: the folder of branch files); FUZZ_VERBOSE=1
# prints every pg_migrate case.  About 2 minutes on 2 cores.
set -euo pipefail

chain=${FUZZ_CHAIN:-50000}
branches=${FUZZ_BRANCHES:-5000}
script_mb=${FUZZ_SCRIPT_MB:-100}
probes=${FUZZ_PROBES:-20}
tar_rounds=${FUZZ_TAR_ROUNDS:-1000}
cli_rounds=${FUZZ_CLI_ROUNDS:-50}
cli_branches=${FUZZ_CLI_BRANCHES:-2000}
seed=${FUZZ_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000 ))}
seed=${seed//[^0-9]/}
(( ${#seed} <= 9 )) || seed=${seed: -9}
seed=$(( 10#${seed:-0} ))
RANDOM=$seed

: "${CLUSTER_LOG:?run by test/run, which exports CLUSTER_LOG}"
root=$(cd "$(dirname "$0")/../.." && pwd)
pgm=$root/bin/pg_migrate
db=migrate_fuzz_scale
cli_db=migrate_fuzz_scale_cli
files_db=migrate_fuzz_scale_files
work=$(mktemp -d)
mark=$work/marker
mkdir "$mark"
unset DATABASE_URL MIGRATE_DIR PGCLIENTENCODING
export PGOPTIONS="-c migrate.report_timing=off"

cleanup() {
  cd /
  rm -rf "$work"
  for d in "$db" "$cli_db" "$files_db"; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*"; exit 1; }
# problem WHAT: a finding; the test goes on and fails at the end.
problem() {
  failures=$(( failures + 1 ))
  echo "PROBLEM: $*"
}
started=$SECONDS
phase() { printf 'fuzz_scale: [%3ss] %s\n' "$(( SECONDS - started ))" "$*"; }

log_start=$(( $(stat -c %s "$CLUSTER_LOG") + 1 ))
echo "fuzz_scale: seed $seed (FUZZ_SEED=$seed repeats it); chain $chain, branches $branches," \
  "scripts ${script_mb} MB, $probes probes, $tar_rounds tar rounds, $cli_rounds pg_migrate cases"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
newdb() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $1" >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'SET client_min_messages = warning' \
    -c 'CREATE EXTENSION migrate' >/dev/null
}

# The catalog, short: revisions and the applied state, cheap enough on
# 50,000 rows to run around every probe.
# Any committed insert, update or delete changes a count or the newest xmin.
SNAP="SELECT (SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM migrate.revisions)
          || ' applied ' || (SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM migrate.applied)"

# ------------------------------------------------------------------ values

# Hostile pieces, in printf %b notation.  MARK becomes the marker folder:
# any of these that a shell or psql ever ran would leave a file there.
TOKENS=(
  '$(touch MARK/dollar)' '`touch MARK/backtick`' '$(touch fz_marker_cwd)' '`touch fz_marker_cwd2`' '; touch MARK/semicolon' '| touch MARK/pipe'
  '&& touch MARK/and' '\n\\! touch MARK/psql\n' '\\! touch MARK/psql2' '\\o MARK/psqlout'
  "'; \\\\! touch MARK/quote\n" '$pgm$ \\! touch MARK/dq $pgm$' '\\gexec' '\\set x' ':pgm_target'
  ":'pgm_target'" ':"pgm_ids"' "'" "''" '"' '\\\\' '$pgm_0' '$pgm_0$' '$pgm$' '$pgm_behind$'
  '$$' '$' ';' '--' '/*' '*/' '\n' '\r' '\r\n' '\t' ' ' '  ' '*' '?' '[a' '.*' '^' '|' '&'
  '-' '--help' '-m' '=' '@' '@head' '+1' '-1' '%s' '%n' '${HOME}' '~' '!' '#' '\x1b[31m' '\x01'
  '\x7f' '\xff' '\xfe\xfe' '\xc3' '\xe2\x82' '\xed\xa0\x80' '\xc0\x80' '\xf4\x90\x80\x80'
  '\xc3\xa9' '\xf0\x9f\x99\x82' '-- migrate:upgrade' '-- migrate:revision x' 'head' 'heads'
  'base' 'r1' 'r3' 'lbl' 'b1' 'SELECT 1;' 'COMMIT;' 'DROP TABLE fz_r1;'
)
WORDS=(r1 r2 r3 b1 lbl a z9 fz_x head base heads lbl@head r3-1 r1+1 q_1 A_B_C)

# gen_value NUL: a random hostile value into VALX (printf %b notation) and
# VAL (its bytes; without NUL bytes: VALX holds them only when NUL is 1).
gen_value() {
  local n i t out=''
  n=$(( 1 + RANDOM % 5 ))
  for (( i = 0; i < n; i++ )); do
    case $(( RANDOM % 6 )) in
      0|1|2) t=${TOKENS[RANDOM % ${#TOKENS[@]}]} ;;
      3) t=${WORDS[RANDOM % ${#WORDS[@]}]} ;;
      4) t=$RANDOM ;;
      *) printf -v t '\\x%02x' $(( 1 + RANDOM % 255 )) ;;
    esac
    out+=$t
  done
  if (( $1 == 1 && RANDOM % 6 == 0 )); then
    out+='\x00'${WORDS[RANDOM % ${#WORDS[@]}]}
  fi
  if (( RANDOM % 10 == 0 )); then
    # very long: up to about 60,000 bytes (an argument may hold 128 kB)
    local times=$(( 200 + RANDOM % 3000 ))
    t=$out
    out=''
    for (( i = 0; i < times && ${#out} < 60000; i++ )); do out+=$t; done
  fi
  VALX=${out//MARK/$mark}
  printf -v VAL '%b' "${VALX//'\x00'/}"
}

# valid_utf8 STRING
valid_utf8() { printf '%s' "$1" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; }

# ------------------------------------------------------------------ SQL probes

# Each probe is one statement in autocommit, between two snapshots of the
# catalog; a line "fzprobe N SQLSTATE SAME MESSAGE-LENGTH" per probe.
probe_sql=()
probe_start() { probe_sql=(); }
probe_add() { probe_sql+=("$1"); }
# sql_lit VALUE: VALUE as an SQL literal (standard_conforming_strings on).
sql_lit() { printf "'%s'" "${1//\'/\'\'}"; }

# probe_run DB WHAT: runs the probes; reports every probe that failed
# without an SQLSTATE or a message, with an internal error, or changed the
# catalog although it failed.
probe_run() {
  local pdb=$1 what=$2 i n=${#probe_sql[@]} out="$work/probe.out" ok=0 bad=0 tag id state same len
  {
    echo '\set ON_ERROR_STOP 0'
    echo 'SET client_min_messages = warning;'
    echo "SET statement_timeout = '120s';"
    for (( i = 0; i < n; i++ )); do
      echo "SELECT ($SNAP) AS fz_before \\gset"
      echo '\o /dev/null'
      printf '%s;\n' "${probe_sql[i]}"
      echo '\set fz_state :SQLSTATE'
      echo '\set fz_msg :LAST_ERROR_MESSAGE'
      echo '\o'
      echo "SELECT ($SNAP) = :'fz_before' AS fz_same, length(:'fz_msg') AS fz_len \\gset"
      echo "\\echo fzprobe $i :fz_state :fz_same :fz_len"
    done
  } >"$work/probe.sql"
  local rc=0
  psql -X -q -At -d "$pdb" -f "$work/probe.sql" >"$out" 2>"$work/probe.err" || rc=$?
  if (( rc != 0 )); then
    tail -n 20 "$work/probe.err"
    problem "$what: psql stopped (exit $rc): the server lost the connection?"
  fi
  if grep -E 'server closed the connection|connection to server was lost|terminated abnormally' "$work/probe.err"; then
    problem "$what: a probe lost the connection"
  fi
  while read -r tag id state same len; do
    [[ $tag == fzprobe ]] || continue
    if [[ $state == 00000 ]]; then
      ok=$(( ok + 1 ))
      continue
    fi
    bad=$(( bad + 1 ))
    if [[ ! $state =~ ^[0-9A-Z]{5}$ || $state == XX* ]]; then
      problem "$what: SQLSTATE '$state' for: ${probe_sql[id]:0:300}"
    elif [[ $same != t ]]; then
      problem "$what: the catalog changed although the call failed ($state): ${probe_sql[id]:0:300}"
    elif [[ $len == 0 ]]; then
      problem "$what: an error without a message ($state): ${probe_sql[id]:0:300}"
    fi
  done <"$out"
  (( ok + bad == n )) || problem "$what: $(( ok + bad )) of $n probes reported"
  echo "  $what: $n probes, $ok succeeded, $bad failed with an SQLSTATE"
}

# random_probes N IDS...: N random calls of the graph functions with
# hostile targets and names mixed with the graph's real ones.
random_probes() {
  local n=$1 i t lit
  shift
  local -a ids=("$@")
  for (( i = 0; i < n; i++ )); do
    case $(( RANDOM % 4 )) in
      0) gen_value 0; t=$VAL ;;
      1) t=${ids[RANDOM % ${#ids[@]}]} ;;
      2) gen_value 0; t=${ids[RANDOM % ${#ids[@]}]}$VAL ;;
      *) t=${ids[RANDOM % ${#ids[@]}]}${WORDS[RANDOM % ${#WORDS[@]}]:0:2}$(( RANDOM % 3 - 1 )) ;;
    esac
    lit=$(sql_lit "$t")
    case $(( RANDOM % 9 )) in
      0|1) probe_add "SELECT count(*) FROM migrate.plan($lit)" ;;
      2) probe_add "SELECT count(*) FROM migrate.plan($lit, true)" ;;
      3) probe_add "SELECT migrate.upgrade($lit)" ;;
      4) probe_add "SELECT migrate.require($lit)" ;;
      5) probe_add "SELECT migrate.is_applied($lit)" ;;
      6) probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', $lit, $lit, ARRAY[$lit])" ;;
      7) probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'm', NULL, NULL, ARRAY[$lit], ARRAY[$lit])" ;;
      *) probe_add "SELECT migrate.merge(ARRAY[$lit, ${ids[0]@Q}], $lit)" ;;
    esac
  done
}

# ------------------------------------------------------------------ 1. scale

phase "a chain of $chain revisions"
newdb "$db"
q -o /dev/null <<SQL
SET client_min_messages = warning;
SELECT count(migrate.revision(
         format('SELECT %s;', g), format('SELECT -%s;', g), 'step ' || g, 'c' || g,
         CASE WHEN g = 1 THEN '{}'::text[] ELSE ARRAY['c' || (g - 1)] END))
  FROM generate_series(1, $chain) g;
SQL
out=$(q -c 'SET client_min_messages = warning' -c "SELECT migrate.upgrade('head')" \
        -c 'SELECT count(*) FROM migrate.applied' -c 'SELECT count(*) FROM migrate.verify()')
[[ $out == "c$chain"$'\n'"$chain"$'\n0' ]] || fail "upgrade('head') of the chain: $(head -c 300 <<<"$out")"
phase "chain at head; probes"
probe_start
probe_add "SELECT migrate.upgrade('c1+$(( chain + 1 ))')"
probe_add "SELECT migrate.downgrade('-$(( chain + 1 ))')"
probe_add "SELECT migrate.downgrade('c$chain+1')"
probe_add "SELECT migrate.upgrade('c')"
probe_add "SELECT migrate.upgrade('c1@head')"
probe_add "SELECT migrate.upgrade(repeat('c', 1000000))"
probe_add "SELECT migrate.upgrade('+' || repeat('9', 10000))"
probe_add "SELECT migrate.downgrade('-9223372036854775808')"
probe_add "SELECT migrate.upgrade('c1,c2,' || repeat('c3,', 100000) || 'c4')"
probe_add "SELECT migrate.revision('SELECT 0;', 'SELECT 0;', 'changed', 'c1', '{}')"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'long id', repeat('i', 1000000))"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', repeat('m''\"\$pgm_0\$', 1000000), 'long_message')"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'x', 'many_labels', ARRAY['c$chain'], '{}', ARRAY(SELECT 'l' || g FROM generate_series(1, 10000) g))"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'x', 'dup_labels', ARRAY['c$chain'], '{}', ARRAY['dup', 'dup'])"
# (revision() checks each parent with a query of its own: 100 us each.)
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'x', 'many_parents', ARRAY(SELECT 'c' || g FROM generate_series(1, $chain, 10) g))"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'x', 'many_deps', ARRAY['c$chain'], ARRAY(SELECT 'c' || g FROM generate_series(1, $chain, 10) g))"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'x', 'same_parent', ARRAY(SELECT 'c1' FROM generate_series(1, 100000)))"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'x', 'self', ARRAY['self'])"
probe_add "SELECT migrate.merge(ARRAY['c1', 'c$chain'], 'merge an ancestor')"
probe_add "SELECT migrate.merge(ARRAY(SELECT 'c' || g FROM generate_series(1, $chain) g), 'merge all')"
probe_add "CALL migrate.run(repeat('x', 100000))"
probe_add "CALL migrate.run('c1+$(( chain + 5 ))')"
probe_add "SELECT migrate.stamp('c' || $(( chain + 1 )))"
probe_add "SELECT migrate.forget('c1')"
random_probes "$probes" "c1" "c$(( chain / 2 ))" "c$chain" "c" "c1$(( chain / 10 ))"
probe_run "$db" "chain of $chain"
out=$(q -c 'SET client_min_messages = warning' -c "SELECT coalesce(migrate.downgrade('base'), '<base>')" \
        -c 'SELECT count(*) FROM migrate.applied' -c 'SELECT count(*) FROM migrate.verify()')
[[ $out == $'<base>\n0\n0' ]] || fail "downgrade('base') of the chain: $(head -c 300 <<<"$out")"

phase "$branches branches off one root"
newdb "$db"
q -o /dev/null <<SQL
SET client_min_messages = warning;
SELECT migrate.revision('SELECT 0;', 'SELECT 0;', 'root', 'root', '{}');
SELECT count(migrate.revision(format('SELECT %s;', g), 'SELECT 0;', 'branch ' || g, 'b' || g,
                              ARRAY['root'], '{}', ARRAY['l' || g]))
  FROM generate_series(1, $branches) g;
SQL
out=$(q -c 'SET client_min_messages = warning' -c 'SELECT count(*) FROM migrate.heads()' \
        -c "SELECT migrate.upgrade('heads') IS NOT NULL" -c 'SELECT count(*) FROM migrate.applied' \
        -c 'SELECT count(*) FROM migrate.verify()')
[[ $out == "$branches"$'\nt\n'"$(( branches + 1 ))"$'\n0' ]] ||
  fail "upgrade('heads') of $branches branches: $(head -c 300 <<<"$out")"
probe_start
probe_add "SELECT migrate.upgrade('l1@+1')"
probe_add "SELECT migrate.upgrade('head')"
probe_add "SELECT migrate.downgrade('root')"
probe_add "SELECT migrate.upgrade('l1@head,l2@head,' || repeat('l3@head,', 50000) || 'root')"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'taken label', 'taken', ARRAY['b1'], '{}', ARRAY['l2'])"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'prefix label', 'pl', ARRAY['b1'], '{}', ARRAY['b2'])"
probe_add "SELECT migrate.revision('SELECT 1;', 'SELECT 0;', 'x', 'all_heads_deps', ARRAY['root'], ARRAY(SELECT 'b' || g FROM generate_series(1, $branches) g))"
probe_add "SELECT migrate.merge(ARRAY['b1', 'b1'])"
random_probes "$probes" "b1" "b$branches" "l1" "l$branches@head" "root" "b"
probe_run "$db" "$branches branches"
out=$(q -c 'SET client_min_messages = warning' -c "SELECT migrate.merge(NULL, 'all heads', 'merged')" \
        -c "SELECT migrate.upgrade('head')" -c 'SELECT count(*) FROM migrate.verify()' \
        -c "SELECT coalesce(migrate.downgrade('base'), '<base>')" -c 'SELECT count(*) FROM migrate.applied')
[[ $out == $'merged\nmerged\n0\n<base>\n0' ]] || fail "merge() of $branches heads, up and down: $(head -c 300 <<<"$out")"

phase "${script_mb} MB scripts"
# big WHAT SQL-EXPRESSION CHECK: registers and applies a revision whose
# upgrade is the expression; it succeeds with the script stored byte for
# byte, or fails with an SQLSTATE; CHECK is a query that says t after it
# ran.
big() {
  local what=$1 expr=$2 check=$3 out rc=0
  out=$(q -v VERBOSITY=verbose <<SQL 2>&1
SET client_min_messages = warning;
SET statement_timeout = '150s';
CREATE TEMP TABLE fz_script AS SELECT $expr AS s;
SELECT md5(s) AS fz_md5, octet_length(s) AS fz_len FROM fz_script \gset
SELECT migrate.revision(s, 'TRUNCATE fz_big;', '$what', 'big', '{}') FROM fz_script;
SELECT md5(upgrade) = :'fz_md5' AS fz_same FROM migrate.revisions WHERE id = 'big' \gset
\if :fz_same
\else
\echo 'the stored script differs from the one registered'
\endif
SELECT migrate.upgrade('big');
SELECT ($check) AS fz_ran \gset
\if :fz_ran
\echo big-ok :fz_len bytes
\else
\echo 'the script did not do its work'
\endif
SELECT migrate.downgrade('base');
SQL
) || rc=$?
  if (( rc == 0 )) && grep -q '^big-ok' <<<"$out" && ! grep -q 'differs\|did not' <<<"$out"; then
    echo "  $what: registered and applied ($(sed -n 's/^big-ok //p' <<<"$out"))"
  elif (( rc == 3 )) && grep -qE '^(psql:[^ ]* )?ERROR:  [0-9A-Z]{5}: ' <<<"$out" &&
       ! grep -qE 'ERROR:  XX|server closed|connection to server was lost' <<<"$out"; then
    echo "  $what: refused: $(grep -m1 'ERROR:' <<<"$out" | cut -c1-200)"
  else
    problem "$what: neither success nor a clear error (exit $rc): $(cut -c1-300 <<<"$out" | tail -n 8)"
  fi
  q -c 'DELETE FROM migrate.applied' -c 'DELETE FROM migrate.revisions' -c 'TRUNCATE fz_big' >/dev/null
}
newdb "$db"
q -c 'CREATE TABLE fz_big (n int, v text)' >/dev/null
bytes=$(( script_mb * 1024 * 1024 ))
big "one statement with a ${script_mb} MB literal" \
  "'INSERT INTO fz_big VALUES (1, ''' || repeat('x', $bytes) || ''');'" \
  "SELECT length(v) = $bytes FROM fz_big"
big "${script_mb} MB of statements" \
  "(SELECT string_agg(format('INSERT INTO fz_big VALUES (%s, ''%s'');', g, repeat('p', 1000)), E'\\n')
      FROM generate_series(1, $(( bytes / 1030 ))) g)" \
  "SELECT count(*) = $(( bytes / 1030 )) FROM fz_big"
big "a DO block holding $(( script_mb / 10 )) MB, then a $(( script_mb / 10 )) MB comment" \
  "'DO \$fz\$ BEGIN PERFORM length(''' || repeat('d', $(( bytes / 10 ))) || '''); INSERT INTO fz_big VALUES (2, ''y''); END \$fz\$; -- '
   || repeat('c', $(( bytes / 10 )))" \
  "SELECT count(*) = 1 FROM fz_big"

# ------------------------------------------------------------------ 2. tar archives

phase "damaged tar archives: $tar_rounds rounds"
q -o /dev/null -v seed="$seed" -v rounds="$tar_rounds" <<'SQL'
SET client_min_messages = warning;
SELECT setseed(:seed / 1000000000.0);
SELECT set_config('fz.rounds', :'rounds', false);
CREATE SCHEMA fz;
CREATE TABLE fz.outcome (func text, sqlstate text, message text, input text);
CREATE FUNCTION fz.n(bound int) RETURNS int LANGUAGE sql AS $f$ SELECT floor(random() * bound)::int $f$;
CREATE FUNCTION fz.bytes(len int) RETURNS bytea LANGUAGE sql AS
$f$ SELECT coalesce(string_agg(set_byte('\x00'::bytea, 0, fz.n(256)), ''::bytea), ''::bytea)
      FROM generate_series(1, len) $f$;
CREATE FUNCTION fz.octal(v numeric, width int) RETURNS bytea LANGUAGE plpgsql AS $f$
DECLARE
    s text := '';
BEGIN
    LOOP
        s := (v % 8)::int::text || s;
        v := trunc(v / 8);
        EXIT WHEN v = 0;
    END LOOP;
    RETURN convert_to(lpad(s, width - 1, '0'), 'SQL_ASCII') || '\x00'::bytea;
END $f$;
-- A header's checksum, as tar writes it.
CREATE FUNCTION fz.sum(h bytea) RETURNS bytea LANGUAGE sql AS $f$
    SELECT overlay(h PLACING substr(fz.octal(
               (SELECT sum(CASE WHEN i BETWEEN 148 AND 155 THEN 32 ELSE get_byte(h, i) END)
                  FROM generate_series(0, 511) i), 7), 1, 7) || '\x20'::bytea FROM 149 FOR 8) $f$;
CREATE FUNCTION fz.header(name bytea, size numeric, type text) RETURNS bytea LANGUAGE sql AS $f$
    SELECT fz.sum(overlay(overlay(overlay(overlay(overlay(overlay(
             decode(repeat('00', 512), 'hex')
             PLACING substr(name, 1, 100) FROM 1)
             PLACING '\x303030303634340030303030303030003030303030303000'::bytea FROM 101)
             PLACING fz.octal(size, 12) FROM 125)
             PLACING fz.octal(0, 12) FROM 137)
             PLACING convert_to(type, 'SQL_ASCII') FROM 157)
             PLACING '\x7573746172003030'::bytea FROM 258)) $f$;
CREATE FUNCTION fz.pad(data bytea) RETURNS bytea LANGUAGE sql AS $f$
    SELECT data || decode(repeat('00', (512 - octet_length(data) % 512) % 512), 'hex') $f$;
CREATE FUNCTION fz.entry(name text, data bytea, type text DEFAULT '0') RETURNS bytea LANGUAGE sql AS $f$
    SELECT fz.header(convert_to(name, 'UTF8'), octet_length(data), type) || fz.pad(data) $f$;
CREATE FUNCTION fz.file(id text, parents text, body text) RETURNS bytea LANGUAGE sql AS $f$
    SELECT convert_to(format(E'-- migrate:revision %s\n-- migrate:parents %s\n-- migrate:message m %s\n\n-- migrate:upgrade\n%s\n',
                             id, parents, id, body), 'UTF8') $f$;
CREATE FUNCTION fz.junk_text() RETURNS text LANGUAGE sql AS $f$
    SELECT (ARRAY['5 path=x', E'99999999999999999999 path=a.sql\n', E'-1 path=b.sql\n', '0 ',
                  'path=', E'12 path=x.sql\n30 path=y.sql\n', repeat('9', 600),
                  E'18 path=../../etc\n', E'8 path=\n', E'1000 path=z\n'])[1 + fz.n(10)] $f$;

-- Every text a successful call returned must be valid in the database
-- encoding: convert_from() checks it.
-- (sqlstate BADTX: a row held such text).
CREATE FUNCTION fz.valid(t text) RETURNS boolean LANGUAGE sql AS
$f$ SELECT convert_from(convert_to(coalesce(t, ''), 'UTF8'), 'UTF8') IS NOT NULL $f$;
CREATE FUNCTION fz.try(func text, a bytea) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    st text;
    msg text;
    r record;
    texts text;
    checking boolean := false;
BEGIN
    BEGIN
        IF func = 'files' THEN
            FOR r IN SELECT * FROM migrate.files(a) LOOP
                texts := concat_ws(' ', r.file, r.revision, r.message, r.upgrade, r.downgrade,
                                   r.parents, r.depends_on, r.branch_labels);
                checking := true;
                PERFORM fz.valid(texts);
                checking := false;
            END LOOP;
        ELSIF func = 'check_files' THEN
            FOR r IN SELECT * FROM migrate.check_files(a) LOOP
                checking := true;
                PERFORM fz.valid(r.message);
                checking := false;
            END LOOP;
        ELSE
            FOR r IN SELECT * FROM migrate.sync(a) LOOP
                checking := true;
                PERFORM fz.valid(concat_ws(' ', r.revision, r.file, r.action));
                checking := false;
            END LOOP;
            RAISE EXCEPTION 'fz rollback' USING ERRCODE = 'P0099';
        END IF;
        INSERT INTO fz.outcome VALUES (func, NULL, NULL, encode(substr(a, 1, 2048), 'base64'));
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        IF st = 'P0099' THEN
            st := NULL;
            msg := NULL;
        ELSIF checking THEN
            st := 'BADTX';
        END IF;
        INSERT INTO fz.outcome VALUES (func, st, msg, encode(substr(a, 1, 2048), 'base64'));
    END;
END $f$;
CREATE FUNCTION fz.cat(parts bytea[]) RETURNS bytea LANGUAGE sql AS
$f$ SELECT coalesce(string_agg(p, ''::bytea ORDER BY i), ''::bytea)
      FROM unnest(parts) WITH ORDINALITY u(p, i) $f$;

DO $f$
DECLARE
    good bytea[];
    entries bytea[];
    a bytea;
    hdr int;
    rounds int := current_setting('fz.rounds')::int;
    kinds text[] := ARRAY['files', 'files', 'files', 'check_files', 'sync'];
    many bytea;
BEGIN
    good := ARRAY[
        fz.entry('migrations/t1_a.sql', fz.file('t1', '', 'SELECT 1;')),
        fz.entry('migrations/t2_b.sql', fz.file('t2', 't1', 'SELECT 2;')),
        fz.entry('migrations/t3.sql', fz.file('t3', 't2', 'SELECT 3;'))];
    many := fz.cat((SELECT array_agg(fz.entry(format('migrations/m%s.sql', g),
                                                fz.file('m' || g, 't3', 'SELECT 1;')) ORDER BY g)
                      FROM generate_series(1, 1000) g));
    FOR round IN 1 .. rounds LOOP
        entries := good;
        hdr := 1 + fz.n(3);
        CASE fz.n(12)
        WHEN 0 THEN     -- random bytes in a header, checksum fixed
            a := entries[hdr];
            FOR k IN 1 .. 1 + fz.n(6) LOOP
                a := set_byte(a, fz.n(512), fz.n(256));
            END LOOP;
            entries[hdr] := fz.sum(substr(a, 1, 512)) || substr(a, 513);
        WHEN 1 THEN     -- a size: huge, base-256, beyond the archive, zero
            a := entries[hdr];
            a := overlay(a PLACING (ARRAY[fz.octal(8589934591, 12), fz.octal(99999, 12),
                     '\x80ffffffffffffffffffffff'::bytea, '\x800000000000000040000000'::bytea,
                     '\x80000000000000007fffffff'::bytea, fz.octal(0, 12),
                     fz.octal(octet_length(a) - 512 + 1 + fz.n(2000), 12),
                     '\x2020202020202020202020ff'::bytea])[1 + fz.n(8)] FROM 125);
            entries[hdr] := fz.sum(substr(a, 1, 512)) || substr(a, 513);
        WHEN 2 THEN     -- a type
            a := entries[hdr];
            a := set_byte(a, 156, (ARRAY[0, 48, 76, 120, 103, 53, 49, 50, 75, 83, fz.n(256)])[1 + fz.n(11)]);
            entries[hdr] := fz.sum(substr(a, 1, 512)) || substr(a, 513);
        WHEN 3 THEN     -- a name of 100 bytes without NUL, junk, invalid UTF-8
            a := entries[hdr];
            a := overlay(a PLACING (ARRAY[convert_to(repeat('n', 100), 'UTF8'), fz.bytes(100),
                     '\x74315fff2e73716c00'::bytea, '\x2e2e2f2e2e2f7431'::bytea, '\x00'::bytea])[1 + fz.n(5)] FROM 1);
            entries[hdr] := fz.sum(substr(a, 1, 512)) || substr(a, 513);
        WHEN 4 THEN     -- a ustar prefix
            a := entries[hdr];
            a := overlay(a PLACING (ARRAY[fz.bytes(155), convert_to(repeat('p', 155), 'UTF8'),
                     '\xff00'::bytea, '\x2f00'::bytea])[1 + fz.n(4)] FROM 346);
            entries[hdr] := fz.sum(substr(a, 1, 512)) || substr(a, 513);
        WHEN 5 THEN     -- a pax record before a file
            entries[hdr] := fz.entry('pax', convert_to(fz.junk_text(), 'UTF8'), 'x') || entries[hdr];
        WHEN 6 THEN     -- a long name before a file, or left at the end
            a := (ARRAY[convert_to('migrations/t9_' || repeat('l', 1 + fz.n(3000)) || '.sql', 'UTF8'),
                        fz.bytes(1 + fz.n(600)), '\x'::bytea, '\x74395fffc02e73716c'::bytea])[1 + fz.n(4)];
            IF fz.n(2) = 0 THEN
                entries[hdr] := fz.entry('././@LongLink', a, 'L') || entries[hdr];
            ELSE
                entries := entries || fz.entry('././@LongLink', a, 'L');
            END IF;
        WHEN 7 THEN     -- files whose text is hostile
            entries := entries || fz.entry('migrations/t4_x.sql', (ARRAY[
                fz.bytes(1 + fz.n(1500)),
                fz.file('t4', 't3', 'SELECT 1;') || '\x00'::bytea,
                convert_to(E'-- migrate:revision t4\n-- migrate:parents t3\n-- migrate:message ', 'UTF8') || fz.bytes(40),
                convert_to(E'-- migrate:revision t4\n-- migrate:parents ' || repeat('t3 ', 5000), 'UTF8'),
                convert_to(E'-- migrate:revision t4\n-- migrate:parents t4\n-- migrate:upgrade\nSELECT 1;', 'UTF8'),
                fz.file('t1', '', 'SELECT 1;')])[1 + fz.n(6)]);
        WHEN 8 THEN     -- cut short, or with junk after it
            a := fz.cat(entries);
            entries := ARRAY[CASE fz.n(3)
                WHEN 0 THEN substr(a, 1, 512 * fz.n(octet_length(a) / 512 + 1))
                WHEN 1 THEN substr(a, 1, fz.n(octet_length(a)))
                ELSE a || fz.bytes(512 * (1 + fz.n(3))) END];
        WHEN 9 THEN     -- random bytes anywhere, no checksum fixed
            a := fz.cat(entries);
            FOR k IN 1 .. 1 + fz.n(10) LOOP
                a := set_byte(a, fz.n(octet_length(a)), fz.n(256));
            END LOOP;
            entries := ARRAY[a];
        WHEN 10 THEN    -- up to a thousand more files
            entries := entries || substr(many, 1, 1024 * fz.n(1001));
        ELSE            -- the same file twice, or a directory entry
            entries := entries || (ARRAY[entries[hdr], fz.entry('migrations/', '\x'::bytea, '5'),
                                         fz.entry('migrations/link.sql', '\x'::bytea, '2')])[1 + fz.n(3)];
        END CASE;
        a := fz.cat(entries);
        IF fz.n(4) > 0 THEN
            a := a || decode(repeat('00', 1024), 'hex');
        END IF;
        PERFORM fz.try(kinds[1 + fz.n(5)], a);
    END LOOP;
END
$f$;
SQL
out=$(q <<'SQL'
SELECT count(*), count(*) FILTER (WHERE sqlstate IS NULL), count(DISTINCT sqlstate),
       count(*) FILTER (WHERE sqlstate LIKE 'XX%' OR sqlstate IS NOT NULL AND coalesce(message, '') = ''),
       count(*) FILTER (WHERE sqlstate = 'BADTX')
  FROM fz.outcome;
SQL
)
IFS='|' read -r calls succeeded states bad encoding <<<"$out"
echo "  $calls calls, $succeeded succeeded, the rest failed with $states different SQLSTATEs"
(( calls == tar_rounds )) || problem "tar archives: $calls of $tar_rounds calls recorded"
(( succeeded > 0 )) || problem "tar archives: no damaged archive was ever accepted: the fuzz stops at the first check"
if (( bad > 0 )); then
  q -c "SELECT func, sqlstate, left(message, 200) FROM fz.outcome
         WHERE sqlstate LIKE 'XX%' OR sqlstate IS NOT NULL AND coalesce(message, '') = '' LIMIT 10"
  problem "tar archives: $bad calls failed with an internal error or without a message"
fi
if (( encoding > 0 )); then
  q -c "SELECT func, left(message, 120), left(encode(substr(decode(input, 'base64'), 1, 100), 'escape'), 100) FROM fz.outcome
         WHERE sqlstate = 'BADTX' LIMIT 3"
  problem "tar archives: $encoding calls returned text that is not valid UTF-8 (a file name?)"
fi

# ------------------------------------------------------------------ 3. pg_migrate

# pg_migrate at scale: a folder of $cli_branches branches and a 100 MB file.
phase "pg_migrate: a folder of $cli_branches branches and a ${script_mb} MB file"
newdb "$files_db"
mkdir -p "$work/branches/migrations"
cd "$work/branches"
export PGDATABASE=$files_db
awk -v n="$cli_branches" 'BEGIN {
  f = "migrations/root.sql"
  printf "-- migrate:revision root\n-- migrate:parents\n-- migrate:message root\n\n-- migrate:upgrade\nCREATE TABLE fz_big (v text);\n\n-- migrate:downgrade\nDROP TABLE fz_big;\n" > f
  close(f)
  for (i = 1; i <= n; i++) {
    f = sprintf("migrations/b%d_branch.sql", i)
    printf "-- migrate:revision b%d\n-- migrate:parents root\n-- migrate:message branch %d\n-- migrate:branch_labels l%d\n\n-- migrate:upgrade\nSELECT %d;\n\n-- migrate:downgrade\nSELECT 1;\n", i, i, i, i > f
    close(f)
  }
}'
"$pgm" upgrade heads >"$work/b.out" 2>&1 || { tail -n 5 "$work/b.out"; fail "pg_migrate upgrade heads on $cli_branches branch files"; }
n=$("$pgm" heads | wc -l)
(( n == cli_branches )) || fail "pg_migrate heads printed $n lines, not $cli_branches"
merge=$("$pgm" merge -m 'all heads' --rev-id merged) || fail "pg_migrate merge of $cli_branches heads"
[[ $merge == migrations/merged_all_heads.sql ]] || fail "pg_migrate merge printed $merge"
"$pgm" upgrade head >"$work/b.out" 2>&1 || { tail -n 5 "$work/b.out"; fail "pg_migrate upgrade head after the merge"; }
"$pgm" check >"$work/b.out" 2>&1 || { tail -c 300 "$work/b.out"; fail "pg_migrate check after the merge of $cli_branches heads"; }
# Every command sends the whole folder: the 100 MB file goes once, and the
# downgrade runs its script from the catalog.
{
  printf -- '-- migrate:revision huge\n-- migrate:parents merged\n-- migrate:message huge\n\n-- migrate:upgrade\n'
  printf "INSERT INTO fz_big VALUES ('"
  head -c "$bytes" /dev/zero | tr '\0' 'x'
  printf "');\n\n-- migrate:downgrade\nDELETE FROM fz_big;\n"
} >migrations/huge_file.sql
rc=0
"$pgm" upgrade head >"$work/b.out" 2>&1 || rc=$?
if (( rc == 0 )); then
  [[ $(psql -X -At -c 'SELECT length(v) FROM fz_big') == "$bytes" ]] ||
    problem "pg_migrate upgrade of a ${script_mb} MB file succeeded without running it whole"
  echo "  the ${script_mb} MB revision file was applied"
  rm migrations/huge_file.sql
elif (( rc == 1 )) && grep -qE 'ERROR:  |pg_migrate: ' "$work/b.out"; then
  echo "  the ${script_mb} MB revision file was refused: $(grep -m1 -E 'ERROR:  |pg_migrate: ' "$work/b.out" | cut -c1-200)"
  rm migrations/huge_file.sql
else
  problem "pg_migrate upgrade of a ${script_mb} MB file: exit $rc, $(tail -c 300 "$work/b.out")"
  rm migrations/huge_file.sql
fi
"$pgm" downgrade base >"$work/b.out" 2>&1 || { tail -n 5 "$work/b.out"; fail "pg_migrate downgrade base of $cli_branches branches"; }
[[ $(psql -X -At -c 'SELECT count(*) FROM migrate.applied') == 0 ]] || fail "downgrade base left revisions applied"
psql -X -q -d postgres -c "DROP DATABASE $files_db WITH (FORCE)" >/dev/null

phase "pg_migrate: hostile input"
cli=$work/cli
mkdir -p "$cli/base"
export PGDATABASE=$cli_db
newdb "$cli_db"
cd "$cli"
# The base folder: r1 -> r2 -> r3 and b1 (label lbl), all applied.
wfile() { printf -- '-- migrate:revision %s\n-- migrate:parents %s\n-- migrate:message %s\n%s\n-- migrate:upgrade\n%s\n\n-- migrate:downgrade\n%s\n' "$@"; }
wfile r1 '' 'first' '' 'CREATE TABLE IF NOT EXISTS fz_r1 (id int);' 'DROP TABLE IF EXISTS fz_r1;' >base/r1_first.sql
wfile r2 r1 'second' '' 'SELECT 2;' 'SELECT -2;' >base/r2_second.sql
wfile r3 r2 'third' '' 'SELECT 3;' 'SELECT -3;' >base/r3_third.sql
wfile b1 '' 'other base' '-- migrate:branch_labels lbl' 'SELECT 1;' 'SELECT -1;' >base/b1_other.sql
printf 'CREATE TABLE fz_r1 (id int);\n' >"$work/schema.sql"
cp -a base migrations
"$pgm" upgrade heads >/dev/null 2>&1 || fail "pg_migrate upgrade heads on the base folder"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL' || fail "saving the base catalog"
CREATE SCHEMA fz_saved;
CREATE TABLE fz_saved.revisions AS SELECT * FROM migrate.revisions;
CREATE TABLE fz_saved.applied AS SELECT * FROM migrate.applied;
SQL
CLI_SNAP="SELECT (SELECT count(*) || ' ' || coalesce(string_agg(id || '/' || left(checksum, 8), ',' ORDER BY id), '')
                   FROM migrate.revisions)
             || ' | applied ' || (SELECT coalesce(string_agg(revision, ',' ORDER BY revision), '') FROM migrate.applied)"
RESET="BEGIN; DELETE FROM migrate.applied; DELETE FROM migrate.revisions;
       INSERT INTO migrate.revisions SELECT * FROM fz_saved.revisions;
       INSERT INTO migrate.applied SELECT * FROM fz_saved.applied; COMMIT;"
snap() { psql -X -q -At -c "$CLI_SNAP" 2>&1; }
# sig DIR: the folder's names and bytes.
# (Only regular files are read: a FIFO would block.)
sig() {
  (cd -- "$1" 2>/dev/null &&
     { find . -printf '%y %p\n'; find . -type f -print0 | xargs -0 -r md5sum; } | LC_ALL=C sort | md5sum) ||
    echo none
}

cases=0
cli_clean=0
cli_base=''
cli_ok=0
cli_failed=0
# run_case WHAT EXPECT DIR CMD...: runs pg_migrate in $cli from the base
# state.  EXPECT is "any", "fail" (the input must be refused) or
# "fail-file" (refused, naming the revision file).
run_case() {
  local what=$1 expect=$2 dir=$3 before after fbefore fafter rc=0 err new
  shift 3
  cases=$(( cases + 1 ))
  # After a failure that changed nothing the catalog is still the base one.
  if (( cli_clean )); then
    before=$cli_base
  else
    before=$(psql -X -q -At -v ON_ERROR_STOP=1 -c "$RESET" -c "$CLI_SNAP" 2>&1) ||
      fail "resetting the catalog before: $what: $before"
    cli_base=$before
  fi
  cli_clean=0
  fbefore=$(sig "$dir")
  timeout 120 "$pgm" "$@" >"$work/cli.out" 2>"$work/cli.err" </dev/null || rc=$?
  err=$(head -c 4000 "$work/cli.err" | LC_ALL=C tr -d '\000')
  if [[ -n ${FUZZ_VERBOSE:-} ]]; then
    printf '  case %s: exit %s: %s | %s\n' "$cases" "$rc" "${what:0:150}" "$(grep -m1 -E 'ERROR|pg_migrate:' <<<"$err" | cut -c1-150)"
  fi
  if [[ -n $(ls -A "$mark") ]] || [[ -n $(find "$work" -name 'fz_marker*' -print -quit) ]]; then
    problem "a shell command ran ($(ls -A "$mark"; find "$work" -name 'fz_marker*')): $what"
    rm -f -- "$mark"/* "$mark"/.[!.]* 2>/dev/null || true
    find "$work" -name 'fz_marker*' -delete
  fi
  if (( rc == 0 )); then
    cli_ok=$(( cli_ok + 1 ))
    if [[ $expect == fail* ]]; then
      problem "accepted, but must be refused: $what"
    fi
    case " $* " in
      *" revision "*|*" merge "*)
        new=$(head -n 1 "$work/cli.out")
        rm -f "$work/last_new.sql"
        if [[ ! -f $new ]]; then
          problem "pg_migrate $1 succeeded but wrote no file ($new): $what"
        elif ! cp -- "$new" "$work/last_new.sql" || ! timeout 60 "$pgm" --dir "$dir" heads --files >/dev/null 2>"$work/cli2.err"; then
          problem "pg_migrate succeeded but wrote a file that the next command refuses: $what; $(tr -d '\000' <"$work/cli2.err" | head -c 400)"
        fi
        ;;
    esac
    after=$(psql -X -At -c 'SELECT count(*) FROM migrate.verify()' 2>&1)
    [[ $after == 0 ]] || problem "migrate.verify() reports problems ($after) after: $what"
  else
    cli_failed=$(( cli_failed + 1 ))
    after=$(snap)
    fafter=$(sig "$dir")
    if (( rc != 1 && rc != 2 )); then
      problem "exit status $rc: $what; $err"
    elif ! grep -qE '(^|: )ERROR:  |^pg_migrate: ' <<<"$err"; then
      problem "failed without a message: $what; stderr: $err"
    fi
    if grep -qE 'syntax error at or near' <<<"$err" && ! grep -qE 'revision file "|desired schema' <<<"$err"; then
      problem "a psql syntax error that names no file: $what; $(grep -m3 -E 'ERROR|syntax|LINE|invalid' <<<"$err" | head -c 400)"
    elif grep -qE 'invalid command \\|unterminated quoted|invalid multibyte character|could not escape' <<<"$err"; then
      problem "psql itself choked on the input: $what; $(head -c 300 <<<"$err")"
    fi
    if [[ $expect == fail-file ]] && ! grep -qE 'revision file (name )?"' <<<"$err"; then
      problem "refused without naming the revision file: $what; $(head -c 300 <<<"$err")"
    fi
    if [[ $after == "$before" ]]; then
      cli_clean=1
    else
      problem "the catalog changed although the command failed: $what; before: $before; after: $after"
    fi
    [[ $fafter == "$fbefore" ]] || problem "the folder changed although the command failed: $what"
  fi
  [[ $dir != migrations ]] || restore_folder
  if (( failures > 20 )); then
    fail "more than 20 problems; stopping (FUZZ_SEED=$seed repeats this run)"
  fi
}

# show_value: a printable form of VALX for reports.
show_value() { local v=$1; (( ${#v} > 120 )) && v="${v:0:120}...(${#v} chars)"; printf '%s' "$v"; }

restore_folder() {
  rm -rf -- "$cli/migrations"
  cp -a "$cli/base" "$cli/migrations"
}

# file_case NAME CONTENT-IN-%b: a hostile file in the folder, then one
# command that reads it.
file_case() {
  local name=$1 content=$2 label=$3 cmd=${4:-} expect=any path
  restore_folder
  path=migrations/$name
  printf '%b' "$content" >"$path" 2>/dev/null || { restore_folder; return 0; }
  if [[ $name == .* ]]; then
    expect=any                                 # hidden: pg_migrate sends no dot file
  elif ! LC_ALL=C tr -d '\000' <"$path" | cmp -s - "$path"; then
    expect=fail-file                           # a NUL byte: README says refused
  elif ! iconv -f UTF-8 -t UTF-8 "$path" >/dev/null 2>&1; then
    expect=fail-file                           # not UTF-8, the client encoding
  elif ! valid_utf8 "$name"; then
    expect=fail                                # a file name the server cannot hold as text
  fi
  local -a cmds=('sync' 'upgrade heads' 'history' 'heads --files' 'check' 'upgrade heads --sql'
                 'current' 'downgrade r2' 'show r3' 'history --verbose' 'upgrade lbl@head')
  [[ -n $cmd ]] || cmd=${cmds[RANDOM % ${#cmds[@]}]}
  # shellcheck disable=SC2086  # a command and its options
  run_case "$label: file $(printf '%q' "$name"), then pg_migrate $cmd" "$expect" migrations $cmd
  restore_folder
}

# hostile_file: a revision file whose headers, name and scripts come from
# the generator.
hostile_file() {
  local id idx parents msg extra='' name up down
  if (( RANDOM % 3 == 0 )); then gen_value 1; idx=$VALX; else idx=h$RANDOM; fi
  case $(( RANDOM % 6 )) in
    0|1|2) parents=r3 ;;
    3) parents='b1 r3' ;;
    4) parents='' ;;
    *) gen_value 1; parents=$VALX ;;
  esac
  if (( RANDOM % 4 == 0 )); then msg="plain message"; else gen_value 1; msg=$VALX; fi
  if (( RANDOM % 5 == 0 )); then gen_value 1; extra+="-- migrate:depends_on $VALX\\n"; fi
  if (( RANDOM % 5 == 0 )); then gen_value 1; extra+="-- migrate:branch_labels $VALX\\n"; fi
  if (( RANDOM % 10 == 0 )); then gen_value 1; extra+="-- migrate:transactional $VALX\\n"; fi
  if (( RANDOM % 10 == 0 )); then gen_value 1; extra+="-- migrate:$VALX\\n"; fi
  if (( RANDOM % 10 == 0 )); then extra+="-- migrate:message second message\\n"; fi
  gen_value 1
  case $(( RANDOM % 6 )) in
    0) up='SELECT 1;' ;;
    1) up="SELECT '${VALX//\'/\'\'}';" ;;
    2) up="SELECT \$fz\$${VALX}\$fz\$;" ;;
    3) up=$VALX ;;
    4) up="-- ${VALX}\\nSELECT 1;" ;;
    *) up="SELECT 1; /* ${VALX//\*\//} */" ;;
  esac
  if (( RANDOM % 3 == 0 )); then gen_value 1; down="SELECT '${VALX//\'/\'\'}';"; else down='SELECT 0;'; fi
  # the file name: <id>_fz.sql, or hostile
  printf -v id '%b' "${idx//'\x00'/}"
  if (( RANDOM % 5 == 0 )); then gen_value 0; name=$VAL; else name=${id}_fz; fi
  name=${name//\//_}
  [[ -n $name && $name != . && $name != .. ]] || name=empty
  name=$(LC_ALL=C; printf '%s' "${name:0:200}").sql
  file_case "$name" \
    "-- migrate:revision ${idx}\\n-- migrate:parents ${parents}\\n-- migrate:message ${msg}\\n${extra}\\n-- migrate:upgrade\\n${up}\\n\\n-- migrate:downgrade\\n${down}\\n" \
    "random file (id $(show_value "$idx"), parents $(show_value "$parents"), message $(show_value "$msg"), extra $(show_value "$extra"), upgrade $(show_value "$up"))"
}

# hostile_option: one option or argument of one command from the generator.
hostile_option() {
  local v
  gen_value 0
  v=$VAL
  local label
  label="value $(show_value "$VALX")"
  restore_folder
  case $(( RANDOM % 15 )) in
    0) run_case "revision -m, $label" any migrations revision -m "$v" --head r3 ;;
    1) run_case "revision --rev-id, $label" any migrations revision -m fz --head r3 --rev-id "$v" ;;
    2) run_case "revision --head, $label" any migrations revision -m fz --head "$v" ;;
    3) run_case "revision --depends-on, $label" any migrations revision -m fz --head r3 --depends-on "$v" ;;
    4) run_case "revision --branch-label, $label" any migrations revision -m fz --head r3 --branch-label "$v" ;;
    5) run_case "merge REV, $label" any migrations merge -m fz "$v" r3 ;;
    6) run_case "merge -m, $label" any migrations merge -m "$v" b1 r3 ;;
    7) run_case "upgrade TARGET, $label" any migrations upgrade "$v" ;;
    8) run_case "downgrade TARGET, $label" any migrations downgrade "$v" ;;
    9) run_case "stamp TARGET, $label" any migrations stamp "$v" ;;
    10) run_case "show REV, $label" any migrations show "$v" ;;
    11) run_case "graph --format, $label" any migrations graph --format "$v" ;;
    12) run_case "upgrade --sql TARGET, $label" any migrations upgrade "$v" --sql ;;
    13) run_case "check --schema, $label" any migrations check --schema-file "$work/schema.sql" --schema "$v" ;;
    *) dir_case "$v" "--dir, $label" ;;
  esac
  restore_folder
}

# dir_case NAME LABEL: the base files in a folder of that name.
dir_case() {
  local d=$1 expect=any
  d=${d//\//_}
  [[ -n $d && $d != . && $d != .. && $d != base && $d != migrations ]] || d="d$d"
  d=$(LC_ALL=C; printf '%s' "${d:0:200}")
  mkdir -- "$cli/$d" 2>/dev/null || return 0
  cp -- "$cli"/base/*.sql "$cli/$d/"
  valid_utf8 "$d" || expect=fail
  local -a cmds=('upgrade heads' 'history' 'check' 'revision -m fz --head r3' 'heads --files' 'downgrade r2')
  local cmd=${cmds[RANDOM % ${#cmds[@]}]}
  # shellcheck disable=SC2086
  run_case "$2 (folder $(printf '%q' "$d")), pg_migrate $cmd" "$expect" "$d" --dir "$d" $cmd
  rm -rf -- "${cli:?}/$d"
}

# The fixed list: the nastiest inputs, each once.
phase "pg_migrate: the fixed list"
M=$mark
restore_folder
run_case 'revision -m "x$pgm_0"' any migrations revision -m 'x$pgm_0' --head r3
run_case 'revision -m with $(...), backticks, \! and quotes' any migrations \
  revision -m "\$(touch $M/m1) \`touch $M/m2\` '; \\! touch $M/m3 \$pgm_0\$ \"" --head r3
run_case 'revision -m with newlines and a psql meta-command line' any migrations \
  revision -m $'a\n\\! touch '"$M"$'/m4\n-- migrate:upgrade\nDROP TABLE fz_r1;' --head r3
run_case 'revision -m with invalid UTF-8' any migrations revision -m $'bad \xff\xfe byte' --head r3
run_case 'revision -m of 100,000 bytes' any migrations revision -m "$(printf "%0100000d" 0)" --head r3
run_case 'revision --rev-id of 10,000 characters' fail migrations revision -m x --head r3 --rev-id "$(printf '%010000d' 0)"
run_case 'revision --rev-id $(touch)' fail migrations revision -m x --head r3 --rev-id "\$(touch $M/id)"
run_case 'revision --rev-id head' fail migrations revision -m x --head r3 --rev-id head
run_case 'revision --rev-id r1 (exists)' fail migrations revision -m x --head r3 --rev-id r1
run_case 'revision --head .*' fail migrations revision -m x --head '.*'
run_case 'revision --head "r3; touch"' fail migrations revision -m x --head "r3; touch $M/head"
run_case 'revision --head r1 (not a head)' fail migrations revision -m x --head r1
run_case 'revision --depends-on "r1 r2"' fail migrations revision -m x --head r3 --depends-on 'r1 r2'
run_case 'revision --depends-on r.' fail migrations revision -m x --head r3 --depends-on 'r.'
run_case 'revision --branch-label "a;b"' fail migrations revision -m x --head r3 --branch-label 'a;b'
run_case 'revision --branch-label head' fail migrations revision -m x --head r3 --branch-label head
run_case 'merge "b." r3: a regular expression' any migrations merge -m m 'b.' r3
run_case 'merge "*" r3: a glob' any migrations merge -m m '*' r3
run_case 'merge "r[0-9]" b1' any migrations merge -m m 'r[0-9]' b1
# A pattern is no name, even when a file in the current folder matches it.
touch "$cli/b1"
run_case 'merge "b?" r3, with a file b1 in the current folder' fail migrations merge -m m 'b?' r3
rm -f "$cli/b1"
run_case 'upgrade with invalid UTF-8' any migrations upgrade $'r\xff'
run_case 'show with invalid UTF-8' any migrations show $'\xfe'
run_case 'graph --format with invalid UTF-8' any migrations graph --format $'dot\xff'
run_case 'upgrade "r3\"; \! touch"' fail migrations upgrade "r3'; \\! touch $M/up"
run_case 'upgrade $pgm_0' fail migrations upgrade '$pgm_0$'
run_case 'downgrade of 100,000 characters' fail migrations downgrade "$(printf '%0100000d' 1)"
run_case 'stamp "head; touch"' fail migrations stamp "head; touch $M/stamp"
run_case 'check --schema "x''; \! touch"' any migrations check --schema-file "$work/schema.sql" --schema "x'; \\! touch $M/schema"
run_case 'revision --autogenerate --schema "$pgm_0"' any migrations \
  revision --autogenerate -m auto --head r3 --schema-file "$work/schema.sql" --schema 'public$pgm_0'
# A NUL byte in the desired schema: refused, or the schema read whole (the
# table after the NUL's line in the new revision).
printf 'CREATE TABLE fz_r1 (id int);\nCREATE TABLE fz_nul (a text); -- \000\nCREATE TABLE fz_after_nul (b text);\n' \
  >"$work/nul_schema.sql"
rm -f "$work/last_new.sql"
run_case 'revision --autogenerate from a schema file holding a NUL byte' any migrations \
  revision --autogenerate -m auto --head r3 --schema-file "$work/nul_schema.sql"
if [[ -s $work/last_new.sql ]] && ! grep -q fz_after_nul "$work/last_new.sql"; then
  problem "revision --autogenerate --schema-file: a NUL byte dropped the rest of its line and the next line (CREATE TABLE fz_after_nul) from the desired schema"
fi
restore_folder
for d in 'd$pgm_0' "d'q" 'd"q' $'d\nnl' '-rf' '$(touch '"$M"'/dir)' '`touch '"$M"'/dir2`' 'a b;c' \
         "d\\! touch $M/dir3" '--help' "$(printf 'd%0200d' 0)"; do
  dir_case "$d" "--dir $(printf '%q' "$d")"
done
dir_case $'d\xff\xfe' '--dir with invalid UTF-8'
restore_folder
MIGRATE_DIR='m$pgm_0' run_case 'MIGRATE_DIR=m$pgm_0 (missing)' fail migrations history

hdr() { printf -- '-- migrate:revision %s\\n-- migrate:parents %s\\n-- migrate:message %s\\n%s\\n-- migrate:upgrade\\n%s\\n\\n-- migrate:downgrade\\nSELECT 0;\\n' "$@"; }
file_case x1_fz.sql "$(hdr x1 r3 'm$pgm_0' '' 'SELECT 1;')" 'message ending in $pgm_0' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '-- migrate:branch_labels l$pgm_0\n' 'SELECT 1;')" 'label ending in $pgm_0' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 'r3$pgm_0' 'm' '' 'SELECT 1;')" 'parents ending in $pgm_0' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' 'SELECT $pgm_0$ x $pgm_0$;')" 'script with $pgm_0$' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 "\$(touch $M/f1) \`touch $M/f2\` '; \\\\! touch $M/f3" '' 'SELECT 1;')" 'message with $(...), backticks, \!' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' "\\\\! touch $M/f4")" 'script line \! touch' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' "SELECT 1; \\\\! touch $M/f5")" 'script with \! after a statement' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' "SELECT '\\\\! touch $M/f6';")" 'script with \! inside a literal' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' 'DELETE FROM fz_r1 WHERE id = 5\x00 AND id = 6;')" 'NUL in a script line' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm\x00x' '' 'SELECT 1;')" 'NUL in the message' 'upgrade heads'
file_case x1_fz.sql "$(hdr 'x1\x00y' r3 'm' '' 'SELECT 1;')" 'NUL in the id' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm \xff\xfe' '' 'SELECT 1;')" 'invalid UTF-8 in the message' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' "SELECT '\\xc0\\x80';")" 'overlong NUL in a script' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' "SELECT '\\xed\\xa0\\x80';")" 'UTF-16 surrogate in a script' 'upgrade heads'
file_case "$(printf 'x1_\xff\xfe.sql')" "$(hdr x1 r3 'm' '' 'SELECT 1;')" 'file name with invalid UTF-8' 'upgrade heads'
file_case 'x1_$(cd ..;cd marker;touch name).sql'  "$(hdr x1 r3 'm' '' 'SELECT 1;')" 'file name with $(...)' 'upgrade heads'
file_case $'x1_a\nb.sql' "$(hdr x1 r3 'm' '' 'SELECT 1;')" 'file name with a newline' 'upgrade heads'
file_case "x1_'\"\`;\$pgm_0.sql" "$(hdr x1 r3 'm' '' 'SELECT 1;')" 'file name with quotes and $pgm_0' 'upgrade heads'
file_case -x1.sql "$(hdr x1 r3 'm' '' 'SELECT 1;')" 'file name starting with -' 'upgrade heads'
file_case "x1_$(printf '%0240d' 0).sql" "$(hdr x1 r3 'm' '' 'SELECT 1;')" 'file name of 250 bytes' 'upgrade heads'
file_case x1_fz.sql "$(hdr "$(printf '%065d' 0)" r3 'm' '' 'SELECT 1;')" 'id of 65 characters' 'upgrade heads'
file_case x1_fz.sql "$(hdr 'x1;DROP' r3 'm' '' 'SELECT 1;')" 'id with ;' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 "$(printf 'r3 %.0s' {1..5000})" 'm' '' 'SELECT 1;')" 'r3 5,000 times in parents' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 "$(printf 'nope%s ' {1..2000})" 'm' '' 'SELECT 1;')" '2,000 missing parents' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 x1 'm' '' 'SELECT 1;')" 'its own parent' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 "$(printf '%01000000d' 0)" '' 'SELECT 1;')" 'message of 1 MB' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '-- migrate:depends_on r1 r1 r1 x1\n' 'SELECT 1;')" 'depends on itself' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '-- migrate:branch_labels lbl\n' 'SELECT 1;')" 'a label taken' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '-- migrate:branch_labels r\n' 'SELECT 1;')" 'a label that is a prefix of ids' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '-- migrate:transactional false; \\\\! touch '"$M"'/t\n' 'SELECT 1;')" 'transactional junk' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '-- migrate:bogus\n' 'SELECT 1;')" 'an unknown directive' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' 'SELECT 1/0;')" 'a script that fails when run' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' 'COMMIT; SELECT 1;')" 'COMMIT in a script' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' 'SELECT $x$ unterminated')" 'an unterminated dollar quote' 'upgrade heads'
file_case x1_fz.sql "$(hdr x1 r3 'm' '' "SELECT migrate.stamp('r1');")" 'a script that calls migrate.stamp' 'upgrade heads'
file_case r1_first.sql "$(hdr r1 '' 'first' '' 'CREATE TABLE IF NOT EXISTS fz_r1 (id int); SELECT 1;')" 'an applied revision edited' 'upgrade heads'
file_case r1_again.sql "$(hdr r1 '' 'first' '' 'CREATE TABLE IF NOT EXISTS fz_r1 (id int);')" 'two files with one id' 'upgrade heads'
file_case x1_fz.sql '\xef\xbb\xbf-- migrate:revision x1\n-- migrate:parents r3\n-- migrate:upgrade\nSELECT 1;\n' 'a byte order mark' 'upgrade heads'
file_case x1_fz.sql '-- migrate:revision x1\r\n-- migrate:parents r3\r\n-- migrate:message m\r\n\r\n-- migrate:upgrade\r\nSELECT 1;\r\n' 'CRLF lines' 'upgrade heads'
file_case x1_fz.sql '' 'an empty file' 'upgrade heads'
file_case x1_fz.sql '\x00\x00\x00' 'only NUL bytes' 'upgrade heads'
restore_folder
ln -s loop.sql migrations/loop.sql
run_case 'a symbolic link loop in the folder' any migrations history
restore_folder
ln -s /etc/hostname migrations/x1_link.sql
run_case 'a link to a file that is no revision' any migrations history
restore_folder
mkfifo migrations/x1_fifo.sql
run_case 'a FIFO in the folder' any migrations history
restore_folder
fixed=$cases

phase "pg_migrate: $cli_rounds random cases"
for (( round = 0; round < cli_rounds; round++ )); do
  if (( RANDOM % 2 )); then hostile_file; else hostile_option; fi
done
echo "  $cases pg_migrate commands ($fixed fixed, $(( cases - fixed )) random): $cli_ok succeeded, $cli_failed failed"
(( cli_ok > 0 && cli_failed > 0 )) || problem "the commands never succeeded or never failed"
cd /

# ------------------------------------------------------------------ 4. the server log

phase "the server log"
if tail -c "+$log_start" "$CLUSTER_LOG" | grep -E 'terminated by signal|PANIC|TRAP:'; then
  problem "the server log shows a crash"
fi
(( failures == 0 )) || fail "$failures problems (FUZZ_SEED=$seed repeats this run)"
phase "no crash, no shell command run, no change after an error"
