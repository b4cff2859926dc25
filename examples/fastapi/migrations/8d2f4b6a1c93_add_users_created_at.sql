-- migrate:revision 8d2f4b6a1c93
-- migrate:parents 3c1e9a7b2f10
-- migrate:message add users.created_at

-- migrate:upgrade
ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();

-- migrate:downgrade
ALTER TABLE users DROP COLUMN created_at;
