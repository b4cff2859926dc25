-- migrate:revision 5e6f708192a3
-- migrate:parents 3c4d5e6f7081
-- migrate:message add product sku
-- migrate:branch_labels catalog
--
-- Branch "catalog": SKUs, filled in for existing products by a data
-- migration.

-- migrate:upgrade
ALTER TABLE products ADD COLUMN sku text;
UPDATE products SET sku = 'SKU-' || lpad(id::text, 6, '0');
ALTER TABLE products ALTER COLUMN sku SET NOT NULL;
ALTER TABLE products ADD CONSTRAINT products_sku_key UNIQUE (sku);

-- migrate:downgrade
ALTER TABLE products DROP COLUMN sku;
