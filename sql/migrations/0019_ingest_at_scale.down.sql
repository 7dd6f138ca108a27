-- Back to 0013's trigger functions and a json body.
SET LOCAL jit = off;

CREATE OR REPLACE FUNCTION stats_mark_days(formats text[], days date[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO stats_dirty_days (format, event_date)
    SELECT DISTINCT u.format, u.event_date
      FROM unnest(formats, days) AS u (format, event_date)
     WHERE u.format IS NOT NULL AND u.event_date IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM stats_dirty_days x
                        WHERE x.format = u.format AND x.event_date = u.event_date
                          AND x.txid = txid_current());
$$;

CREATE OR REPLACE FUNCTION stats_dirty_event_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    f text[];
    d date[];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t WHERE t.id IN (SELECT tournament_id FROM old_rows);
        PERFORM stats_mark_days(f, d);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
          FROM tournaments t WHERE t.id IN (SELECT tournament_id FROM new_rows);
        PERFORM stats_mark_days(f, d);
    END IF;
    RETURN NULL;
END
$$;

DO $$
BEGIN
    ALTER TABLE raw_documents ALTER COLUMN body TYPE json USING body::json,
        ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    ALTER TABLE raw_documents ALTER COLUMN body TYPE json USING body::json;
END $$;
