-- migrate:revision 3c1e9a7b2f10
-- migrate:parents
-- migrate:message create users

-- migrate:upgrade
CREATE TABLE users (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE
);

-- migrate:downgrade
DROP TABLE users;
