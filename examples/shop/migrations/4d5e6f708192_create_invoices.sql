-- migrate:revision 4d5e6f708192
-- migrate:parents 3c4d5e6f7081
-- migrate:message create invoices
-- migrate:branch_labels billing
--
-- Branch "billing": invoices for orders.

-- migrate:upgrade
CREATE TYPE invoice_status AS ENUM ('draft', 'sent', 'paid');
CREATE TABLE invoices (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL UNIQUE REFERENCES orders,
  status   invoice_status NOT NULL DEFAULT 'draft',
  total    numeric(12, 2) NOT NULL
);

-- migrate:downgrade
DROP TABLE invoices; DROP TYPE invoice_status;
