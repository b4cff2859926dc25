#!/usr/bin/env bash
# Hostile input never crashes the server, and every rejection carries a
# proper SQLSTATE.  test/fuzz/fuzz.sql sends random and mutated targets,
# ids, labels, parent arrays, messages and scripts (junk of every
# character but NUL, unterminated quotes and comments, forbidden
# statements, 10 MB scripts, deep nesting) through every migrate function;
# then run() gets its share from the client.  Afterwards: no internal error
# (class XX) and no error without a message, the catalog verifies, and the
# server log shows no backend terminated by a signal.
# FUZZ_ROUNDS (default 3000 per phase) and FUZZ_SEED (0..1) scale and repeat it.
set -euo pipefail

rounds=${FUZZ_ROUNDS:-3000}
seed=${FUZZ_SEED:-0.$(( (RANDOM << 15 | RANDOM) % 1000000 ))}
db=migrate_fuzz
here=$(cd "$(dirname "$0")/.." && pwd)
psql=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$db")
work=$(mktemp -d)
trap 'rm -rf "$work"; dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT
: "${CLUSTER_LOG:?run by test/run, which exports CLUSTER_LOG}"

fail() { echo "FAIL: $*"; exit 1; }
echo "fuzz: seed $seed (FUZZ_SEED=$seed repeats it), $rounds rounds"

log_start=$(( $(stat -c %s "$CLUSTER_LOG") + 1 ))
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"

"${psql[@]}" -o /dev/null -v seed="$seed" -v rounds="$rounds" -f "$here/fuzz/fuzz.sql" \
  >"$work/fuzz.out" 2>&1 || { tail -n 50 "$work/fuzz.out"; fail "fuzz.sql did not run to its end"; }

# run() must be called at top level, one CALL per statement.
printf '%s\n' 'SET client_min_messages = warning;' 'SELECT call FROM fuzz.run_calls \gexec' |
  psql -X -q -At -v ON_ERROR_STOP=0 -v VERBOSITY=verbose -d "$db" >"$work/run.out" 2>&1 ||
  { tail -n 50 "$work/run.out"; fail "the run() calls did not complete"; }
grep -q 'ERROR:  ' "$work/run.out" || fail "no run() call was rejected: the fuzz is not reaching it"
if grep -E 'ERROR:  XX|server closed the connection|connection to server was lost' "$work/run.out"; then
  fail "run() failed with an internal error or lost the connection"
fi

# Bytes that are not UTF-8 are stopped at the server's door.
out=$(printf "SELECT migrate.upgrade('\xff\xfe');\n" |
      psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$db" 2>&1) && fail "invalid UTF-8 was accepted"
grep -q 'ERROR:  22021' <<<"$out" || fail "invalid UTF-8: $out"

out=$("${psql[@]}" <<'SQL'
SELECT count(*),
       count(*) FILTER (WHERE sqlstate IS NULL),
       count(DISTINCT sqlstate),
       count(*) FILTER (WHERE sqlstate LIKE 'XX%' OR coalesce(message, '') = '' AND sqlstate IS NOT NULL),
       (SELECT count(*) FROM migrate.verify()) + (SELECT count(*) FROM fuzz.problems)
  FROM fuzz.outcome;
SQL
)
IFS='|' read -r calls succeeded states bad problems <<<"$out"
echo "fuzz: $calls calls, $succeeded succeeded, the rest rejected with $states different SQLSTATEs"
if (( bad > 0 )); then
  "${psql[@]}" -c "SELECT func, sqlstate, message, left(input, 200) FROM fuzz.outcome
                   WHERE sqlstate LIKE 'XX%' OR coalesce(message, '') = '' AND sqlstate IS NOT NULL
                   LIMIT 20"
  fail "$bad calls failed with an internal error or without a message"
fi
(( calls >= 2 * rounds )) || fail "only $calls calls were made"
(( succeeded > 0 && succeeded < calls )) || fail "the fuzz never succeeded or never failed ($succeeded of $calls)"
if (( problems > 0 )); then
  "${psql[@]}" -c 'SELECT * FROM fuzz.problems' -c 'SELECT * FROM migrate.verify()'
  fail "migrate.verify() reports $problems problems after the fuzz"
fi
for big in 'revision 10MB string literal' 'upgrade 10MB string literal' 'revision 10MB of statements'; do
  [[ $("${psql[@]}" -c "SELECT count(*) FROM fuzz.outcome WHERE func = '$big' AND sqlstate IS NULL") == 1 ]] ||
    fail "$big: a valid 10 MB script was not accepted"
done

if tail -c "+$log_start" "$CLUSTER_LOG" | grep -E 'terminated by signal|PANIC|TRAP:'; then
  fail "the server log shows a crash"
fi
echo "fuzz: no crash, no internal error"
