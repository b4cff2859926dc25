-- migrate:revision 6f708192a3b4
-- migrate:parents 4d5e6f708192 5e6f708192a3
-- migrate:message merge billing and catalog
--
-- The two branches meet again (written by "pg_migrate merge").

-- migrate:upgrade

-- migrate:downgrade
