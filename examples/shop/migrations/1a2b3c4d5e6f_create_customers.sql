-- migrate:revision 1a2b3c4d5e6f
-- migrate:parents
-- migrate:message create customers

-- migrate:upgrade
CREATE TABLE customers (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL,
  email      text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:downgrade
DROP TABLE customers;
