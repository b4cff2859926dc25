-- migrate:revision 2b3c4d5e6f70
-- migrate:parents 1a2b3c4d5e6f
-- migrate:message create products with a starter catalogue

-- migrate:upgrade
CREATE TABLE products (
  id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name  text NOT NULL,
  price numeric(10, 2) NOT NULL CHECK (price > 0)
);
INSERT INTO products (name, price) VALUES
  ('Tea, green, 100 g', 4.50),
  ('Tea, black, 100 g', 3.90),
  ('Teapot', 24.00);

-- migrate:downgrade
DROP TABLE products;
