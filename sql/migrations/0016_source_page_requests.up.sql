-- Replaying a source from its stored pages (a parser fix re-derives documents without
-- fetching again, issue 10) must find the answer to the same request, not only to the same
-- URL: Melee's search and Topdeck's listing are POSTs to one URL with different bodies. The
-- request is kept as a digest of method, URL and body, secret-looking fields masked first.
ALTER TABLE source_pages ADD COLUMN request_sha256 bytea;
CREATE INDEX ix_source_pages_request ON source_pages (source, request_sha256, fetched_at DESC);
