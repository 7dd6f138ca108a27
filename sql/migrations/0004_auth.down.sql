-- Reverse of 0004_auth.up.sql.
DROP TABLE IF EXISTS operator_tasks;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS users;
