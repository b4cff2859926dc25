#!/usr/bin/env python3
# pg_migrate_alembic.py PROJECT DIR: writes a revision file in DIR for every
# revision of the Alembic project PROJECT, using Alembic itself (its
# ScriptDirectory for the graph, its offline mode for the scripts).  PROJECT
# is the project's folder or its configuration file: alembic.ini (Alembic
# 1.8's layout), or pyproject.toml with [tool.alembic] (Alembic 1.16 and
# later, with an alembic.ini beside it for logging and the URL, or none).
# Run by "pg_migrate import-alembic".
import configparser
import inspect
import io
import os
import re
import sys


def fail(message):
    sys.stderr.write("pg_migrate: " + message + "\n")
    sys.exit(1)


try:
    import alembic
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
except ImportError as error:
    fail("cannot import alembic (%s): install python3-alembic, or name a Python "
         "that has it with PYTHON" % error)

project, target_dir = sys.argv[1], sys.argv[2]
# Alembic 1.16 added Config(toml_file=...) with [tool.alembic].
READS_TOML = "toml_file" in inspect.signature(Config.__init__).parameters


def has_tool_alembic(path):
    """Whether the pyproject.toml at PATH has a [tool.alembic] table."""
    try:
        import tomllib
    except ImportError:
        # Python before 3.11: the table's header is enough to tell.
        with open(path, encoding="utf-8") as f:
            return re.search(r"^\s*\[\s*tool\s*\.\s*alembic\s*[\].]", f.read(), re.M) is not None
    try:
        with open(path, "rb") as f:
            return "alembic" in tomllib.load(f).get("tool", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        fail("cannot read %s: %s: fix the file, or give the project's alembic.ini" % (path, error))


# The files the alembic command would read, run in the project's folder.
if os.path.isdir(project):
    folder = project
    ini, toml = os.path.join(folder, "alembic.ini"), os.path.join(folder, "pyproject.toml")
elif os.path.isfile(project):
    folder = os.path.dirname(project) or "."
    if os.path.basename(project).endswith(".toml"):
        ini, toml = os.path.join(folder, "alembic.ini"), project
        if not has_tool_alembic(toml):
            fail("%s has no [tool.alembic] table: give the Alembic project's alembic.ini, or "
                 "its pyproject.toml with [tool.alembic] (Alembic 1.16 and later)" % project)
    else:
        ini, toml = project, os.path.join(folder, "pyproject.toml")
else:
    fail("no file or folder %s: give the Alembic project's folder, its alembic.ini or its "
         "pyproject.toml" % project)
ini = os.path.abspath(ini) if os.path.isfile(ini) else None
toml = os.path.abspath(toml) if os.path.isfile(toml) and has_tool_alembic(toml) else None
if ini is None and toml is None:
    fail("no Alembic project at %s: give its folder (with alembic.ini, or pyproject.toml with "
         "[tool.alembic]) or one of those files" % project)


def ini_has_script_location():
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error as error:
        fail("cannot read %s: %s" % (ini, error))
    return parser.has_option("alembic", "script_location")


if toml and not READS_TOML:
    if ini is None or not ini_has_script_location():
        fail("%s configures Alembic in [tool.alembic], which Alembic reads from 1.16 on, and %s "
             "has Alembic %s: install Alembic 1.16 or later, or name a Python that has it with "
             "PYTHON" % (toml, sys.executable, alembic.__version__))
    # As the alembic command of this version does: alembic.ini alone.
    toml = None
source = " and ".join(f for f in (ini, toml) if f)


def no_script_location():
    fail("%s names no script_location: Alembic's scripts folder is named there, in "
         "[alembic] of alembic.ini or, from Alembic 1.16 on, [tool.alembic] of "
         "pyproject.toml" % source)


if toml is None and not ini_has_script_location():
    no_script_location()
# Relative paths in the configuration (script_location = alembic,
# prepend_sys_path = .) are relative to where the alembic command runs: the
# project's folder.
target = os.path.abspath(target_dir)
os.chdir(folder)

ID = re.compile(r"^[A-Za-z0-9_]{1,64}$")
MARKER = re.compile(r"^-- Running (upgrade|downgrade) (.*) -> (.*)$")


def config(buffer):
    files = {"toml_file": toml} if toml else {}
    return Config(ini, output_buffer=buffer, stdout=io.StringIO(), **files)


try:
    scripts = ScriptDirectory.from_config(config(io.StringIO()))
    revisions = list(reversed(list(scripts.walk_revisions())))
except Exception as error:
    if "script_location" in str(error):
        no_script_location()
    fail("cannot read the Alembic project %s: %s" % (source, error))


def as_tuple(value):
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def offline(direction, span):
    """The SQL Alembic's offline mode writes for `alembic <direction> <span> --sql`."""
    buffer = io.StringIO()
    getattr(command, direction)(config(buffer), span, sql=True)
    return buffer.getvalue()


def section(sql, direction, revision):
    """The statements Alembic ran for one revision, without its own
    bookkeeping: the version table and the transaction control."""
    lines = sql.splitlines()
    start = end = None
    for i, line in enumerate(lines):
        marker = MARKER.match(line)
        if marker is None:
            continue
        if start is not None:
            end = i
            break
        sides = marker.group(3) if direction == "upgrade" else marker.group(2)
        if marker.group(1) == direction and revision in [s.strip() for s in sides.split(",")]:
            start = i + 1
    if start is None:
        return None
    body = "\n".join(lines[start:end]).strip("\n")
    blocks = [b for b in re.split(r"\n\s*\n", body) if b.strip()]
    tables = set()
    for block in blocks:
        m = re.match(r"(?:INSERT INTO|UPDATE|DELETE FROM) (\S+) .*\bversion_num\b", block, re.S)
        if m:
            tables.add(m.group(1))

    def bookkeeping(block):
        text = block.strip()
        if text in ("BEGIN;", "COMMIT;"):
            return True
        m = re.match(r"(?:INSERT INTO|UPDATE|DELETE FROM|DROP TABLE|CREATE TABLE) (\S+?)[\s;(]", text)
        return bool(m) and (m.group(1) in tables or m.group(1) == "alembic_version")

    return "\n\n".join(b.strip("\n") for b in blocks if not bookkeeping(b))


def slug(message):
    s = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40].rstrip("_")
    return s


os.makedirs(target, exist_ok=True)
written = 0
for rev in revisions:
    rid = rev.revision
    if not ID.match(rid) or rid.lower() in ("head", "heads", "base"):
        fail("Alembic revision id %r cannot be a migrate id (letters, digits and "
             "underscores, at most 64)" % rid)
    parents = as_tuple(rev.down_revision)
    depends = tuple(getattr(rev, "_resolved_dependencies", ()) or ())
    # Alembic lists a label on every revision of its branch; it belongs to
    # the revision that declares it.
    labels = sorted(rev._orig_branch_labels if hasattr(rev, "_orig_branch_labels")
                    else rev.branch_labels or ())
    message = " ".join((rev.doc or "").split())

    first = parents[0] if parents else "base"
    try:
        up = section(offline("upgrade", "%s:%s" % (first, rid)), "upgrade", rid)
    except Exception as error:
        fail("alembic upgrade %s:%s --sql failed: %s" % (first, rid, error))
    if up is None:
        fail("alembic upgrade %s:%s --sql did not run revision %s" % (first, rid, rid))
    try:
        down = section(offline("downgrade", "%s:%s" % (rid, first)), "downgrade", rid)
    except Exception as error:
        sys.stderr.write("pg_migrate: warning: revision %s has no downgrade "
                         "(alembic downgrade %s:%s --sql failed: %s)\n" % (rid, rid, first, error))
        down = None

    lines = ["-- migrate:revision " + rid,
             "-- migrate:parents" + "".join(" " + p for p in parents),
             "-- migrate:message" + (" " + message if message else "")]
    if depends:
        lines.append("-- migrate:depends_on" + "".join(" " + d for d in depends))
    if labels:
        lines.append("-- migrate:branch_labels" + "".join(" " + l for l in labels))
    lines += ["", "-- migrate:upgrade"] + ([up] if up else [])
    if down is not None:
        lines += ["", "-- migrate:downgrade"] + ([down] if down else [])
    text = "\n".join(lines) + "\n"

    name = "%s_%s.sql" % (rid, slug(message)) if slug(message) else "%s.sql" % rid
    path = os.path.join(target, name)
    existing = [f for f in os.listdir(target)
                if f == rid + ".sql" or f.startswith(rid + "_")]
    if existing:
        with open(os.path.join(target, existing[0])) as f:
            if f.read() == text:
                print("  unchanged " + os.path.join(target_dir, existing[0]))
                continue
        fail("%s exists and differs from the import of revision %s: move it away first"
             % (os.path.join(target_dir, existing[0]), rid))
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print("  " + os.path.join(target_dir, name))
    written += 1
print("Imported %d revision(s) from %s into %s" % (written, source, target_dir))
