"""migrate.diff() proven by round trips, with pg_dump as the oracle.

For each pair of schemas (A, B), from the hand-written corpus in
test/diff/corpus.sql and from a generator of random schemas:

  1. a database created from B is dumped (pg_dump --schema-only);
  2. a database created from A is dumped;
  3. from A, diff(B)'s upgrade is applied: the dump must equal B's, and
     diff(B) must then be empty;
  4. the downgrade is applied: the dump must equal A's (unless the pair is
     marked one-way, whose warning must say why: then the upgrade must
     apply again over what the downgrade left, and reach B).

The same diff is asked twice and must come back byte for byte.  Dumps are
compared after one normalisation: the column lines of each CREATE TABLE are
sorted, because ALTER TABLE ADD COLUMN appends where a fresh CREATE TABLE
may have put the column in the middle.  Set DIFF_RANDOM_PAIRS (default 200)
and DIFF_SEED to change the random part.
"""

import os
import random
import re
import subprocess
from pathlib import Path

import psycopg2
import pytest

from scratch import scratch_database

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "diff" / "corpus.sql"
BINDIR = os.environ.get("PG_BINDIR", "")
DB = "migrate_diff_roundtrip"
RANDOM_PAIRS = int(os.environ.get("DIFF_RANDOM_PAIRS", "200"))
SEED = int(os.environ.get("DIFF_SEED", "20261121"))


# ------------------------------------------------------------------ corpus

def read_corpus():
    pairs, current, part = [], None, None
    for line in CORPUS.read_text().splitlines():
        if line.startswith("-- === "):
            current = {"name": line[7:].strip(), "a": [], "b": [], "warn": [], "oneway": False}
            pairs.append(current)
            part = None
        elif current is None:
            continue
        elif line.startswith("-- --- "):
            word, _, rest = line[7:].partition(" ")
            if word in ("a", "b"):
                part = word
            elif word == "warn":
                current["warn"].append(rest)
            elif word == "oneway":
                current["oneway"] = True
        elif part:
            current[part].append(line)
    for pair in pairs:
        pair["a"], pair["b"] = "\n".join(pair["a"]), "\n".join(pair["b"])
    return pairs


# --------------------------------------------------------------- generator

TYPES = ["integer", "bigint", "text", "varchar(20)", "varchar(80)", "numeric(10,2)",
         "boolean", "timestamptz", "date", "uuid", "jsonb"]
# Changes a generated pair may make to a column's type, both ways castable.
RETYPE = {"integer": ["bigint", "text"], "bigint": ["integer", "numeric(10,2)"],
          "text": ["varchar(80)"], "varchar(20)": ["varchar(80)", "text"],
          "varchar(80)": ["varchar(20)", "text"], "numeric(10,2)": ["numeric(14,4)"],
          "numeric(14,4)": ["numeric(10,2)"]}
DEFAULTS = {"integer": "0", "bigint": "1", "text": "''", "varchar(20)": "'x'",
            "varchar(80)": "'y'", "numeric(10,2)": "0.5", "numeric(14,4)": "1.25",
            "boolean": "false", "timestamptz": "now()", "date": "CURRENT_DATE",
            "uuid": None, "jsonb": "'{}'::jsonb"}


def random_schema(rng, prefix="t"):
    tables = {}
    for t in range(rng.randint(1, 5)):
        name = f"{prefix}{t}"
        columns = {"id": {"type": "integer", "notnull": True, "default": None}}
        for c in range(rng.randint(1, 6)):
            ctype = rng.choice(TYPES)
            columns[f"c{c}"] = {
                "type": ctype,
                "notnull": rng.random() < 0.3,
                "default": DEFAULTS[ctype] if rng.random() < 0.3 else None,
            }
        tables[name] = {"columns": columns, "indexes": {}, "fks": {}, "uniques": {}, "checks": {}}
        mutate_constraints(rng, tables, name)
    return tables


def mutate_constraints(rng, tables, name):
    table = tables[name]
    plain = [c for c in table["columns"] if c != "id"]
    if plain and rng.random() < 0.5:
        cols = rng.sample(plain, min(len(plain), rng.randint(1, 2)))
        idx = f"{name}_{'_'.join(cols)}_idx"
        table["indexes"][idx] = {"columns": cols, "unique": rng.random() < 0.3}
    ints = [c for c in plain if table["columns"][c]["type"] in ("integer", "bigint")]
    if ints and rng.random() < 0.4:
        col = rng.choice(ints)
        table["checks"][f"{name}_{col}_check"] = f"{col} >= 0"
    if plain and rng.random() < 0.3:
        col = rng.choice(plain)
        table["uniques"][f"{name}_{col}_key"] = col
    others = [t for t in tables if t != name]
    if ints and others and rng.random() < 0.5:
        col = rng.choice([c for c in ints if table["columns"][c]["type"] == "integer"] or [None])
        if col:
            target = rng.choice(others)
            action = rng.choice(["", " ON DELETE CASCADE", " ON DELETE SET NULL", " DEFERRABLE"])
            table["fks"][f"{name}_{col}_fkey"] = (col, target, action)


def mutate(rng, schema):
    b = {t: {k: (dict(v) if isinstance(v, dict) else v) for k, v in tab.items()}
         for t, tab in schema.items()}
    for t in b:
        b[t]["columns"] = {c: dict(v) for c, v in b[t]["columns"].items()}
    for _ in range(rng.randint(1, 4)):
        move = rng.choice(["add_table", "drop_table", "add_column", "drop_column", "retype",
                           "notnull", "default", "constraints", "drop_constraint"])
        names = list(b)
        if move == "add_table" or not names:
            extra = random_schema(rng, prefix=f"n{rng.randint(0, 999)}_")
            for t, tab in extra.items():
                if t not in b:
                    b[t] = tab
                    for fk in list(tab["fks"]):
                        if tab["fks"][fk][1] not in b:
                            del tab["fks"][fk]
            continue
        name = rng.choice(names)
        table = b[name]
        plain = [c for c in table["columns"] if c != "id"]
        if move == "drop_table" and len(names) > 1:
            del b[name]
            for other in b.values():
                for fk in [k for k, v in other["fks"].items() if v[1] == name]:
                    del other["fks"][fk]
        elif move == "add_column":
            ctype = rng.choice(TYPES)
            table["columns"][f"x{rng.randint(0, 999)}"] = {
                "type": ctype, "notnull": False,
                "default": DEFAULTS[ctype] if rng.random() < 0.5 else None}
        elif move == "drop_column" and plain:
            col = rng.choice(plain)
            del table["columns"][col]
            for kind in ("indexes", "fks", "uniques", "checks"):
                for key in [k for k in table[kind] if col in str(table[kind][k])]:
                    del table[kind][key]
        elif move == "retype" and plain:
            col = rng.choice(plain)
            old = table["columns"][col]["type"]
            if old in RETYPE and not any(v[0] == col for v in table["fks"].values()):
                table["columns"][col]["type"] = rng.choice(RETYPE[old])
                table["columns"][col]["default"] = None
                for key in [k for k, v in table["checks"].items() if col in v]:
                    del table["checks"][key]
        elif move == "notnull" and plain:
            col = rng.choice(plain)
            table["columns"][col]["notnull"] = not table["columns"][col]["notnull"]
        elif move == "default" and plain:
            col = rng.choice(plain)
            spec = table["columns"][col]
            spec["default"] = None if spec["default"] else DEFAULTS.get(spec["type"])
        elif move == "constraints":
            mutate_constraints(rng, b, name)
        elif move == "drop_constraint":
            for kind in ("indexes", "fks", "uniques", "checks"):
                if table[kind]:
                    del table[kind][rng.choice(sorted(table[kind]))]
                    break
    return b


def render(schema):
    """Tables first, then the foreign keys: tables may reference each other."""
    out = []
    for name in sorted(schema):
        table = schema[name]
        cols = []
        for col, spec in table["columns"].items():
            line = f"{col} {spec['type']}"
            if spec["default"] is not None:
                line += f" DEFAULT {spec['default']}"
            if spec["notnull"]:
                line += " NOT NULL"
            if col == "id":
                line += " PRIMARY KEY"
            cols.append(line)
        for key, col in sorted(table["uniques"].items()):
            cols.append(f"CONSTRAINT {key} UNIQUE ({col})")
        for key, expr in sorted(table["checks"].items()):
            cols.append(f"CONSTRAINT {key} CHECK ({expr})")
        out.append(f"CREATE TABLE {name} ({', '.join(cols)});")
        for idx, spec in sorted(table["indexes"].items()):
            unique = "UNIQUE " if spec["unique"] else ""
            out.append(f"CREATE {unique}INDEX {idx} ON {name} ({', '.join(spec['columns'])});")
    for name in sorted(schema):
        for key, (col, target, action) in sorted(schema[name]["fks"].items()):
            out.append(f"ALTER TABLE {name} ADD CONSTRAINT {key} FOREIGN KEY ({col}) "
                       f"REFERENCES {target} (id){action};")
    return "\n".join(out)


def random_pairs():
    rng = random.Random(SEED)
    pairs = []
    for n in range(RANDOM_PAIRS):
        a = random_schema(rng)
        b = mutate(rng, a)
        pairs.append({"name": f"random_{n}", "a": render(a), "b": render(b),
                      "warn": [], "oneway": False})
    return pairs


# ------------------------------------------------------------------ running

def pg(tool):
    return str(Path(BINDIR) / tool) if BINDIR else tool


@pytest.fixture(scope="module")
def db():
    with scratch_database(DB) as connection:
        yield connection


def execute(connection, sql):
    """Run a script; one made of comments only (warnings) runs nothing."""
    if any(line.strip() and not line.lstrip().startswith("--") for line in sql.splitlines()):
        with connection.cursor() as cursor:
            cursor.execute(sql)


def reset(connection, sql):
    execute(connection, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    execute(connection, sql)


def diff(connection, desired):
    with connection.cursor() as cursor:
        cursor.execute("SELECT upgrade, downgrade, warnings FROM migrate.diff(%s)", (desired,))
        return cursor.fetchone()


def normalise(dump):
    lines, out, table = dump.splitlines(), [], None
    for line in lines:
        # \restrict and \unrestrict carry a random key in newer pg_dumps.
        if not line.strip() or line.startswith(("--", "SET ", "\\restrict", "\\unrestrict",
                                                  "SELECT pg_catalog.set_config")):
            continue
        if table is not None:
            if line.startswith(")"):
                out.extend(sorted(table))
                out.append(line)
                table = None
            else:
                table.append(line.rstrip(","))
            continue
        out.append(line)
        if line.startswith("CREATE TABLE ") and line.endswith("("):
            table = []
    return "\n".join(out)


def dump():
    result = subprocess.run([pg("pg_dump"), "--schema-only", "--schema=public", "-d", DB],
                            check=True, capture_output=True, text=True)
    return normalise(result.stdout)


def check_pair(connection, pair):
    reset(connection, pair["b"])
    dump_b = dump()
    reset(connection, pair["a"])
    dump_a = dump()

    upgrade, downgrade, warnings = diff(connection, pair["b"])
    assert diff(connection, pair["b"]) == (upgrade, downgrade, warnings), "not deterministic"
    for pattern in pair["warn"]:
        assert any(re.search(pattern, w) for w in warnings), \
            f"no warning matches {pattern!r}: {warnings}"
    if pair["a"] == pair["b"]:
        assert (upgrade, downgrade, warnings) == ("", "", [])

    execute(connection, upgrade)
    assert dump() == dump_b, f"upgrade does not reach B:\n{upgrade}"
    assert diff(connection, pair["b"])[0] == "", "a second diff is not empty"

    execute(connection, downgrade)
    if not pair["oneway"]:
        assert dump() == dump_a, f"downgrade does not return to A:\n{downgrade}"
        assert diff(connection, pair["a"])[0] == ""
    else:
        execute(connection, upgrade)
        assert dump() == dump_b, f"upgrade after the downgrade does not reach B:\n{upgrade}"


CORPUS_PAIRS = read_corpus()


def test_corpus_is_large_enough():
    assert len(CORPUS_PAIRS) >= 40


@pytest.mark.parametrize("pair", CORPUS_PAIRS, ids=[p["name"] for p in CORPUS_PAIRS])
def test_corpus_round_trip(db, pair):
    check_pair(db, pair)


def test_random_round_trips(db):
    failures = []
    for pair in random_pairs():
        try:
            check_pair(db, pair)
        except (AssertionError, psycopg2.Error) as failure:
            failures.append(f"{pair['name']}: {failure}\n--- A\n{pair['a']}\n--- B\n{pair['b']}")
    assert not failures, f"{len(failures)} of {RANDOM_PAIRS} random pairs failed " \
        f"(DIFF_SEED={SEED}); the first:\n{failures[0]}"
