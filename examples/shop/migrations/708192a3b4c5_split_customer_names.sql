-- migrate:revision 708192a3b4c5
-- migrate:parents 6f708192a3b4
-- migrate:message split customer names
--
-- A data migration: split names into first and last names, and back.

-- migrate:upgrade
ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text;
UPDATE customers
   SET first_name = split_part(name, ' ', 1),
       last_name  = nullif(substr(name, length(split_part(name, ' ', 1)) + 2), '');
ALTER TABLE customers ALTER COLUMN first_name SET NOT NULL,
                      DROP COLUMN name;

-- migrate:downgrade
ALTER TABLE customers ADD COLUMN name text;
UPDATE customers SET name = concat_ws(' ', first_name, last_name);
ALTER TABLE customers ALTER COLUMN name SET NOT NULL,
                      DROP COLUMN first_name, DROP COLUMN last_name;
