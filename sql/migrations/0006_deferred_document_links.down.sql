-- Reverse of 0006_deferred_document_links.up.sql.
ALTER TABLE tournaments ALTER CONSTRAINT tournaments_document_id_fkey NOT DEFERRABLE;
ALTER TABLE source_files ALTER CONSTRAINT source_files_document_id_fkey NOT DEFERRABLE;
ALTER TABLE quarantine ALTER CONSTRAINT quarantine_document_id_fkey NOT DEFERRABLE;
