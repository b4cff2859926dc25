-- examples/shop/register.sql
--
-- A small shop's schema history, registered with migrate.revision():
-- customers, products and orders; then two branches developed in parallel
-- (billing adds invoices, catalog adds product SKUs with a data migration);
-- a merge that joins them; and a last data migration that splits customer
-- names.  Run it in a database with the extension, then:
--
--   SELECT migrate.upgrade('head');
--   SELECT * FROM migrate.history;
--
-- Re-running this file is harmless: registering identical content again
-- changes nothing.

SELECT migrate.revision(
  id        => '1a2b3c4d5e6f',
  message   => 'create customers',
  parents   => '{}',
  upgrade   => $$
    CREATE TABLE customers (
      id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name       text NOT NULL,
      email      text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  $$,
  downgrade => 'DROP TABLE customers;');

SELECT migrate.revision(
  id        => '2b3c4d5e6f70',
  message   => 'create products with a starter catalogue',
  parents   => '{1a2b3c4d5e6f}',
  upgrade   => $$
    CREATE TABLE products (
      id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      name  text NOT NULL,
      price numeric(10, 2) NOT NULL CHECK (price > 0)
    );
    INSERT INTO products (name, price) VALUES
      ('Tea, green, 100 g', 4.50),
      ('Tea, black, 100 g', 3.90),
      ('Teapot', 24.00);
  $$,
  downgrade => 'DROP TABLE products;');

SELECT migrate.revision(
  id        => '3c4d5e6f7081',
  message   => 'create orders',
  parents   => '{2b3c4d5e6f70}',
  upgrade   => $$
    CREATE TABLE orders (
      id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer_id bigint NOT NULL REFERENCES customers,
      ordered_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE order_items (
      order_id   bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
      product_id bigint NOT NULL REFERENCES products,
      quantity   int NOT NULL CHECK (quantity > 0),
      PRIMARY KEY (order_id, product_id)
    );
    CREATE INDEX order_items_product_idx ON order_items (product_id);
  $$,
  downgrade => 'DROP TABLE order_items, orders;');

-- Branch "billing": invoices for orders.
SELECT migrate.revision(
  id            => '4d5e6f708192',
  message       => 'create invoices',
  parents       => '{3c4d5e6f7081}',
  branch_labels => '{billing}',
  upgrade       => $$
    CREATE TYPE invoice_status AS ENUM ('draft', 'sent', 'paid');
    CREATE TABLE invoices (
      id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL UNIQUE REFERENCES orders,
      status   invoice_status NOT NULL DEFAULT 'draft',
      total    numeric(12, 2) NOT NULL
    );
  $$,
  downgrade     => 'DROP TABLE invoices; DROP TYPE invoice_status;');

-- Branch "catalog": SKUs, filled in for existing products by a data migration.
SELECT migrate.revision(
  id            => '5e6f708192a3',
  message       => 'add product sku',
  parents       => '{3c4d5e6f7081}',
  branch_labels => '{catalog}',
  upgrade       => $$
    ALTER TABLE products ADD COLUMN sku text;
    UPDATE products SET sku = 'SKU-' || lpad(id::text, 6, '0');
    ALTER TABLE products ALTER COLUMN sku SET NOT NULL;
    ALTER TABLE products ADD CONSTRAINT products_sku_key UNIQUE (sku);
  $$,
  downgrade     => 'ALTER TABLE products DROP COLUMN sku;');

-- The two branches meet again.
SELECT migrate.merge(ARRAY['4d5e6f708192', '5e6f708192a3'],
                     'merge billing and catalog', '6f708192a3b4');

-- A data migration: split names into first and last names, and back.
SELECT migrate.revision(
  id        => '708192a3b4c5',
  message   => 'split customer names',
  parents   => '{6f708192a3b4}',
  upgrade   => $$
    ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text;
    UPDATE customers
       SET first_name = split_part(name, ' ', 1),
           last_name  = nullif(substr(name, length(split_part(name, ' ', 1)) + 2), '');
    ALTER TABLE customers ALTER COLUMN first_name SET NOT NULL,
                          DROP COLUMN name;
  $$,
  downgrade => $$
    ALTER TABLE customers ADD COLUMN name text;
    UPDATE customers SET name = concat_ws(' ', first_name, last_name);
    ALTER TABLE customers ALTER COLUMN name SET NOT NULL,
                          DROP COLUMN first_name, DROP COLUMN last_name;
  $$);
