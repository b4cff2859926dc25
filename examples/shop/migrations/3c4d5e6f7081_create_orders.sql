-- migrate:revision 3c4d5e6f7081
-- migrate:parents 2b3c4d5e6f70
-- migrate:message create orders

-- migrate:upgrade
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

-- migrate:downgrade
DROP TABLE order_items, orders;
