DROP INDEX IF EXISTS ix_source_pages_request;
ALTER TABLE source_pages DROP COLUMN IF EXISTS request_sha256;
