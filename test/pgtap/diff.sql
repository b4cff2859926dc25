-- test/pgtap/diff.sql
--
-- migrate.diff() and migrate.autogenerate() on bad input, and what they
-- leave behind: nothing but, for autogenerate(), one revision.  Whether the
-- scripts are right is proven by the round trips of test/python/test_diff.py.
\ir setup.psql
SELECT plan(58);

CREATE TABLE dt_users (id int PRIMARY KEY, email text);
CREATE SCHEMA dt_app;
CREATE TABLE dt_app.items (id int PRIMARY KEY);

-- What must hold after every refused call.
CREATE FUNCTION pg_temp.untouched() RETURNS boolean LANGUAGE sql AS $$
    SELECT NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'migrate_desired')
       AND (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
             WHERE attrelid = 'dt_users'::regclass AND attnum > 0 AND NOT attisdropped)
           = '{id,email}'
       AND (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
                                           AND relname LIKE 'dt\_%') = 2
       AND current_setting('search_path') = '"$user", public'
$$;
-- The diff of the live public schema with itself, as pgTAP sees "nothing".
CREATE FUNCTION pg_temp.same() RETURNS text LANGUAGE sql AS $$
    SELECT 'CREATE TABLE dt_users (id int PRIMARY KEY, email text);'
$$;

-- ------------------------------------------------------------ bad input

SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE t (a int);
CREATE TABLE (')$$, '42601', 'syntax error at or near "("',
    'a syntax error in the desired DDL is the parser''s');
SELECT ok(pg_temp.untouched(), '... and changes nothing');

SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE t (a int); INSERT INTO t VALUES (1);')$$,
    '0A000', 'INSERT is not allowed in the desired schema',
    'data changes are refused');
SELECT throws_ok($$SELECT * FROM migrate.diff('DROP DATABASE postgres')$$,
    '0A000', 'DROP DATABASE is not allowed in the desired schema',
    'DROP DATABASE is refused');
SELECT throws_ok($$SELECT * FROM migrate.diff('DROP TABLE dt_users')$$,
    '0A000', 'DROP TABLE is not allowed in the desired schema',
    'so is any DROP: the desired schema says what is wanted, not how');
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE INDEX CONCURRENTLY i ON dt_users (email)')$$,
    '0A000', 'CREATE INDEX is not allowed in the desired schema',
    'CREATE INDEX CONCURRENTLY is refused');
SELECT ok(pg_temp.untouched(), '... and none of them changes anything');

SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE public.t (a int)')$$,
    '42P15', 'the desired schema names schema "public"',
    'a name qualified with the live schema is refused');
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE t (a int); CREATE INDEX i ON dt_app.items (id)')$$,
    '42P15', 'the desired schema names schema "dt_app"',
    'so is one qualified with any schema');
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE posts (user_id int REFERENCES dt_users)')$$,
    '42P15', 'the desired schema refers to table public.dt_users',
    'a foreign key to a live table is refused');
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE VIEW v AS SELECT * FROM dt_users')$$,
    '42P15', 'the desired schema refers to table public.dt_users',
    'so is a view over a live table');
SELECT throws_ok($$SELECT * FROM migrate.diff('ALTER TABLE dt_users ADD COLUMN age int')$$,
    '42P15', 'the desired schema changes column dt_users.age of schema "public"',
    'altering a live table is refused');
SELECT ok(pg_temp.untouched(), '... and the live table is as it was');

SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE a (x int); CREATE TABLE b (y nosuchtype);')$$,
    '42704', 'type "nosuchtype" does not exist',
    'a statement that fails reports the server''s error');
SELECT ok(pg_temp.untouched(), '... and leaves nothing behind');

SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE t (a int)', 'dt_nope')$$,
    '3F000', 'schema "dt_nope" does not exist', 'the compared schema must exist');
SELECT throws_ok($$SELECT * FROM migrate.diff(NULL)$$,
    '22004', 'argument "desired" must not be null', 'desired must not be null');
SELECT throws_ok($$SELECT * FROM migrate.diff('', NULL)$$,
    '22004', 'argument "schema" must not be null', 'schema must not be null');

CREATE SCHEMA migrate_desired;
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE t (a int)')$$,
    '42P06', 'schema "migrate_desired" already exists',
    'a schema in the way of the scratch schema is named');
DROP SCHEMA migrate_desired;

-- The error names the statement and its line.
CREATE FUNCTION pg_temp.error_context(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    context text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS context = PG_EXCEPTION_CONTEXT;
    RETURN context;
END $$;
SELECT matches(pg_temp.error_context($$SELECT * FROM migrate.diff('CREATE TABLE a (x int);

CREATE TABLE b (y nosuchtype);')$$),
    'statement 2 of the desired schema, line 3', 'a failing statement is named with its line');

-- ------------------------------------------------------------ results

SELECT results_eq($$SELECT upgrade, downgrade, warnings FROM migrate.diff(pg_temp.same())$$,
    $$VALUES ('', '', '{}'::text[])$$, 'the same schema gives empty scripts and no warnings');
SELECT is((SELECT count(*) FROM migrate.diff(pg_temp.same())), 1::bigint,
    'diff() returns one row');

SELECT is((SELECT upgrade FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY, email text NOT NULL);')),
    E'ALTER TABLE public.dt_users ALTER COLUMN email SET NOT NULL;\n',
    'the upgrade is the DDL from the live schema to the desired one');
SELECT is((SELECT downgrade FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY, email text NOT NULL);')),
    E'ALTER TABLE public.dt_users ALTER COLUMN email DROP NOT NULL;\n',
    'the downgrade goes back');
SELECT is((SELECT upgrade FROM migrate.diff('CREATE TABLE items (id int PRIMARY KEY, name text)', 'dt_app')),
    E'ALTER TABLE dt_app.items ADD COLUMN name text;\n',
    'another schema is compared, and its name qualifies the DDL');
SELECT is((SELECT warnings FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY)')),
    '{"drops column public.dt_users.email and its data"}',
    'a destructive step is a warning');
SELECT matches((SELECT upgrade FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY)')),
    E'^-- WARNING: drops column public.dt_users.email and its data\nALTER TABLE public.dt_users DROP COLUMN email;',
    '... and a comment above its statement');
SELECT is((SELECT array_agg(u) FROM (SELECT upgrade FROM migrate.diff('CREATE TABLE dt_users (id bigint PRIMARY KEY, email varchar(10)); CREATE TABLE z (a int); CREATE TABLE b (a int)')
                                     UNION ALL
                                     SELECT upgrade FROM migrate.diff('CREATE TABLE dt_users (id bigint PRIMARY KEY, email varchar(10)); CREATE TABLE z (a int); CREATE TABLE b (a int)')) s(u)) IS NOT NULL
          AND (SELECT count(DISTINCT u) FROM (SELECT upgrade FROM migrate.diff('CREATE TABLE b (a int); CREATE TABLE dt_users (id bigint PRIMARY KEY, email varchar(10)); CREATE TABLE z (a int)')
                                     UNION ALL
                                     SELECT upgrade FROM migrate.diff('CREATE TABLE dt_users (id bigint PRIMARY KEY, email varchar(10)); CREATE TABLE z (a int); CREATE TABLE b (a int)')) s(u)) = 1,
    true, 'the output is the same whatever the order of the desired statements');
-- A downgrade drops what its upgrade created, which held no data before it.
SELECT is((SELECT warnings FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY, email text); CREATE TABLE dt_new (id int)')),
    '{}', 'a new table gives no warning about its downgrade dropping it');
SELECT is((SELECT downgrade FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY, email text); CREATE TABLE dt_new (id int)')),
    E'DROP TABLE public.dt_new;\n', '... which still drops it, with no warning comment');
SELECT is((SELECT warnings FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY, email text, age int)')),
    '{}', 'nor does a new column');
SELECT is((SELECT warnings FROM migrate.diff('CREATE TABLE dt_other (a int)')),
    '{"drops table public.dt_users and its data"}',
    'an upgrade that drops an existing table still warns (and its downgrade dropping the new one does not)');
SELECT is((SELECT warnings FROM migrate.diff('CREATE TABLE dt_users (id bigint PRIMARY KEY, email text)')),
    '{"downgrade: changes the type of column public.dt_users.id from bigint to integer, which can fail or lose data"}',
    'a downgrade that can lose data the user wrote still warns');
SELECT ok(pg_temp.untouched(), 'diff() changed nothing');

-- ------------------------------------------------------------ autogenerate

-- Its warnings (about enum values) are expected.
SET client_min_messages = error;

SELECT is(migrate.autogenerate(pg_temp.same(), 'nothing to do'), NULL,
    'autogenerate() returns NULL when there is no difference');
SELECT is((SELECT count(*) FROM migrate.revisions), 0::bigint, '... and registers nothing');

SELECT migrate.autogenerate('CREATE TABLE dt_users (id int PRIMARY KEY, email text);
                             CREATE TABLE dt_posts (id int PRIMARY KEY, user_id int REFERENCES dt_users);',
                            'posts') AS first_id \gset
SELECT is((SELECT message FROM migrate.revisions WHERE id = :'first_id'), 'posts',
    'autogenerate() registers a revision and returns its id');
SELECT is((SELECT upgrade FROM migrate.revisions WHERE id = :'first_id'),
    (SELECT upgrade FROM migrate.diff('CREATE TABLE dt_users (id int PRIMARY KEY, email text);
                                       CREATE TABLE dt_posts (id int PRIMARY KEY, user_id int REFERENCES dt_users);')),
    '... whose upgrade is the diff');
SELECT is(migrate.upgrade('head'), :'first_id', 'it applies');
SELECT is(to_regclass('public.dt_posts')::text, 'dt_posts', '... and the table exists');

SELECT migrate.autogenerate('CREATE TABLE dt_users (id int PRIMARY KEY, email text);
                             CREATE TABLE dt_posts (id int PRIMARY KEY, user_id int REFERENCES dt_users, title text);',
                            'titles') AS second_id \gset
SELECT is((SELECT parents FROM migrate.revisions WHERE id = :'second_id'), ARRAY[:'first_id'],
    'the next one goes on the current head');
SELECT throws_ok($$SELECT migrate.autogenerate('CREATE TABLE dt_users (id int PRIMARY KEY, email text);
                                CREATE TABLE dt_posts (id int PRIMARY KEY, user_id int REFERENCES dt_users, title text);')$$,
    '55000', 'the database is not at head',
    'autogenerate() refuses a database behind its head: the diff would repeat a revision');
SELECT is((SELECT count(*) FROM migrate.revisions), 2::bigint, '... and registers nothing');

-- An enum value has no downgrade: the revision must apply again after one.
SELECT is(migrate.upgrade('head'), :'second_id', 'at head again');
CREATE TYPE dt_mood AS ENUM ('sad', 'happy');
SELECT migrate.autogenerate('CREATE TABLE dt_users (id int PRIMARY KEY, email text);
                             CREATE TABLE dt_posts (id int PRIMARY KEY, user_id int REFERENCES dt_users, title text);
                             CREATE TYPE dt_mood AS ENUM (''sad'', ''ok'', ''happy'');',
                            'mood') AS mood_id \gset
SELECT matches((SELECT upgrade FROM migrate.revisions WHERE id = :'mood_id'),
    $$ALTER TYPE public\.dt_mood ADD VALUE IF NOT EXISTS 'ok' AFTER 'sad';$$,
    'a new enum value is added IF NOT EXISTS, in its place');
SELECT is(migrate.upgrade('head'), :'mood_id', 'the revision applies');
SELECT is(migrate.downgrade('-1'), :'second_id', '... is downgraded (the value stays)');
SELECT lives_ok($$SELECT migrate.upgrade('+1')$$, '... and applies again');
SELECT is((SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum
            WHERE enumtypid = 'dt_mood'::regtype), '{sad,ok,happy}',
    '... leaving the value once, in its place');

-- The desired schema cannot act: an expression PostgreSQL evaluates while
-- it runs the DDL may not call a volatile function, whose effect would
-- outlive the rollback.
CREATE TABLE dt_parted (a int) PARTITION BY RANGE (a);
CREATE SEQUENCE dt_live_seq;
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE dt_parted (a int) PARTITION BY RANGE (a);
    CREATE TABLE dt_p1 PARTITION OF dt_parted FOR VALUES FROM (0) TO (pg_catalog.lo_export(0, ''/tmp/migrate_dt_sandbox'') + 10);')$$,
    '42501', 'the desired schema may not call volatile function lo_export(oid,text)',
    'a partition bound that writes a server file is refused...');
SELECT ok((SELECT pg_stat_file('/tmp/migrate_dt_sandbox', true) IS NULL), '... and writes nothing');
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE dt_parted (a int) PARTITION BY RANGE (a);
    CREATE TABLE dt_p1 PARTITION OF dt_parted FOR VALUES FROM (0) TO (pg_catalog.pg_advisory_lock(42)::text::int);')$$,
    '42501', 'the desired schema may not call volatile function pg_advisory_lock(bigint)',
    'a partition bound that takes an advisory lock is refused...');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), 0::bigint,
    '... and the session holds no lock');
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE dt_parted (a int) PARTITION BY RANGE (a);
    CREATE TABLE dt_t (a int); ALTER TABLE dt_t ADD COLUMN b int DEFAULT pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid())::int;')$$,
    '42501', 'the desired schema may not call volatile function pg_terminate_backend(integer,bigint)',
    'an ADD COLUMN default that signals a backend is refused (this backend is alive to say so)');
SELECT throws_ok($$SELECT * FROM migrate.diff('CREATE TABLE dt_parted (a int) PARTITION BY RANGE (a);
    CREATE TABLE dt_t (a int); ALTER TABLE dt_t ADD COLUMN n bigint DEFAULT pg_catalog.nextval(''public.dt_live_seq'');')$$,
    '42501', 'the desired schema may not call volatile function nextval(regclass)',
    'an ADD COLUMN default that advances a live sequence is refused...');
SELECT is((SELECT is_called FROM dt_live_seq), false, '... and the sequence is where it was');
SELECT lives_ok($$SELECT * FROM migrate.diff('CREATE TABLE dt_parted (a int) PARTITION BY RANGE (a);
    CREATE TABLE dt_p2 PARTITION OF dt_parted FOR VALUES FROM (1) TO (pg_catalog.length(pg_catalog.current_setting(''search_path'')));
    CREATE TABLE dt_t (a int, s serial, u uuid DEFAULT gen_random_uuid());
    ALTER TABLE dt_t ADD COLUMN b timestamptz DEFAULT now(), ADD COLUMN c uuid DEFAULT gen_random_uuid();')$$,
    'stable and immutable expressions run, a volatile default in CREATE TABLE is only stored, and random values are allowed');
SELECT lives_ok($$SELECT pg_catalog.pg_advisory_xact_lock(7)$$, 'after the call, volatile functions are callable again');

SELECT * FROM finish();
ROLLBACK;
