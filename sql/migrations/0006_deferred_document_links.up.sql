-- Raw documents are stored by their own connection while the ingestion writes the rows that
-- point at them (ids are reserved first, so both go out at once). Checking those links at
-- commit instead of per row lets a batch's rows be written while its documents still are;
-- the writer commits the rows only after the documents are committed.
ALTER TABLE tournaments ALTER CONSTRAINT tournaments_document_id_fkey
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE source_files ALTER CONSTRAINT source_files_document_id_fkey
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE quarantine ALTER CONSTRAINT quarantine_document_id_fkey
    DEFERRABLE INITIALLY DEFERRED;
