#!/usr/bin/env bats
#
# pg_migrate revision --autogenerate and check --schema-file /
# --from-sqlalchemy: Alembic's autogenerate workflow, from a schema file and
# from SQLAlchemy models (Debian's python3-sqlalchemy).

load helpers

# The Debian Python has SQLAlchemy; another python3 on PATH may not.
export PYTHON=${BUILD_PYTHON:-/usr/bin/python3}

@test "a schema file: generate, apply, check, change, generate again" {
    init
    cat >schema.sql <<'SQL'
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
SQL
    run -0 --separate-stderr pg_migrate revision --autogenerate -m "users" --schema-file schema.sql
    first=$output
    [[ "$first" == migrations/*_users.sql ]]
    grep -q '^CREATE TABLE public.users (' "$first"
    grep -q '^DROP TABLE public.users;' "$first"
    # Its downgrade drops the table it creates: no data from before, no warning.
    [[ "$stderr" != *"drops table"* ]]

    # The database is behind its files: check says so, and so does revision.
    run -1 --separate-stderr pg_migrate check --schema-file schema.sql
    run -1 --separate-stderr pg_migrate revision --autogenerate -m "again" --schema-file schema.sql
    [[ "$stderr" == *"the database is not at head"* && "$stderr" == *'Run "pg_migrate upgrade heads" first'* ]]
    [ "$(ls migrations | wc -l)" -eq 1 ]

    run -0 pg_migrate upgrade head
    run -0 pg_migrate check --schema-file schema.sql
    [[ "$output" == *"No differences"* ]]

    # Nothing to do: no file.
    run -0 --separate-stderr pg_migrate revision --autogenerate -m "nothing" --schema-file schema.sql
    [[ "$stderr" == *"No changes in the schema detected"* ]]
    [ "$(ls migrations | wc -l)" -eq 1 ]

    cat >schema.sql <<'SQL'
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE INDEX users_name ON users (name);
SQL
    run -1 --separate-stderr pg_migrate check --schema-file schema.sql
    [[ "$output" == *'schema "public" differs from the desired schema'* ]]
    [[ "$output" == *"ALTER TABLE public.users ADD COLUMN name text;"* ]]
    [[ "$output" == *"CREATE INDEX users_name ON public.users USING btree (name);"* ]]
    # Two statements are two differences, whatever else is printed.
    [[ "$stderr" == *"check failed: 2 difference(s)"* ]]

    run -0 --separate-stderr pg_migrate revision --autogenerate -m "names" --schema-file schema.sql
    second=$output
    grep -q "^-- migrate:parents $(sed -n 's/^-- migrate:revision //p' "$first")\$" "$second"
    run -0 pg_migrate upgrade head
    run -0 pg_migrate check --schema-file schema.sql
    [ "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_name'")" = 1 ]

    # And back.
    run -0 pg_migrate downgrade -1
    [ "$(q "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'")" = 0 ]
}

@test "a destructive change is a warning on stderr and a comment in the file" {
    init
    printf 'CREATE TABLE t (a int, b int);\n' >schema.sql
    pg_migrate revision --autogenerate -m "t" --schema-file schema.sql >/dev/null 2>&1
    pg_migrate upgrade head >/dev/null 2>&1
    printf 'CREATE TABLE t (a int);\n' >schema.sql
    run -0 --separate-stderr pg_migrate revision --autogenerate -m "drop b" --schema-file schema.sql
    [[ "$stderr" == *"warning: drops column public.t.b and its data"* ]]
    grep -q '^-- WARNING: drops column public.t.b and its data$' "$output"
}

@test "SQLAlchemy models: generate, apply, check" {
    "$PYTHON" -c 'import sqlalchemy' 2>/dev/null || skip "no SQLAlchemy for $PYTHON"
    init
    cat >models.py <<'PY'
import enum
from sqlalchemy import Column, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Mood(enum.Enum):
    sad = 1
    happy = 2


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    email = Column(Text, nullable=False, unique=True)
    mood = Column(Enum(Mood, name="mood"), comment="how they feel")


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    title = Column(String(200))
    __table_args__ = (Index("posts_title_idx", "title"),)
PY
    run -0 --separate-stderr pg_migrate revision --autogenerate -m "models" --from-sqlalchemy models:Base
    file=$output
    grep -q "^CREATE TYPE public.mood AS ENUM ('sad', 'happy');" "$file"
    grep -q "REFERENCES public.users(id) ON DELETE CASCADE;" "$file"
    grep -q "^COMMENT ON COLUMN public.users.mood IS 'how they feel';" "$file"
    run -0 pg_migrate upgrade head
    run -0 pg_migrate check --from-sqlalchemy models:Base
    # The same models as a MetaData.
    run -0 pg_migrate check --from-sqlalchemy models:Base.metadata
}

@test "bad schema sources are usage errors or say what is wrong, and write nothing" {
    init
    run -2 --separate-stderr pg_migrate revision --autogenerate -m x
    [[ "$stderr" == *"--autogenerate needs --schema-file FILE or --from-sqlalchemy MODULE:ATTRIBUTE"* ]]
    run -2 --separate-stderr pg_migrate revision -m x --schema-file schema.sql
    [[ "$stderr" == *"--schema-file and --from-sqlalchemy go with --autogenerate"* ]]
    run -2 --separate-stderr pg_migrate check --schema-file a.sql --from-sqlalchemy m:B
    [[ "$stderr" == *"not both"* ]]
    run -2 --separate-stderr pg_migrate upgrade --schema-file a.sql
    [[ "$stderr" == *"upgrade does not take option --schema-file"* ]]
    run -1 --separate-stderr pg_migrate revision --autogenerate -m x --schema-file missing.sql
    [[ "$stderr" == *"cannot read schema file missing.sql"* ]]
    run -1 --separate-stderr pg_migrate revision --autogenerate -m x --from-sqlalchemy nomodule
    [[ "$stderr" == *"needs MODULE:ATTRIBUTE"* ]]
    run -1 --separate-stderr pg_migrate revision --autogenerate -m x --from-sqlalchemy no_such_module:Base
    [[ "$stderr" == *"cannot import module no_such_module"* ]]
    printf 'CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n' >schema.sql
    run -1 --separate-stderr pg_migrate revision --autogenerate -m x --schema-file schema.sql
    [[ "$stderr" == *"INSERT is not allowed in the desired schema"* ]]
    [ -z "$(ls migrations)" ]
}

@test "Alembic's habit: downgrade, delete the file, change the schema, generate again, upgrade" {
    init
    echo 'CREATE TABLE users (id int PRIMARY KEY);' >schema.sql
    run -0 pg_migrate revision --autogenerate -m "users" --schema-file schema.sql
    first=$output
    run -0 pg_migrate upgrade head
    echo 'CREATE TABLE users (id int PRIMARY KEY, nick text);' >schema.sql
    run -0 pg_migrate revision --autogenerate -m "nick" --schema-file schema.sql
    wrong=$output
    wrong_id=$(sed -n 's/^-- migrate:revision //p' "$wrong")
    run -0 pg_migrate upgrade head
    # Not what we wanted: back, delete the file, model it again.
    run -0 pg_migrate downgrade -1
    rm -- "$wrong"
    echo 'CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);' >schema.sql
    run -0 --separate-stderr pg_migrate revision --autogenerate -m "name" --schema-file schema.sql
    [[ "$stderr" == *"revision $wrong_id forgotten"* ]]
    right=$output
    grep -q "^-- migrate:parents $(sed -n 's/^-- migrate:revision //p' "$first")\$" "$right"
    run -0 pg_migrate upgrade head
    [ "$(q "SELECT count(*) FROM migrate.revisions WHERE id = '$wrong_id'")" = 0 ]
    [ "$(q "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'users'")" = "id,name" ]
    run -0 pg_migrate check --schema-file schema.sql
}
