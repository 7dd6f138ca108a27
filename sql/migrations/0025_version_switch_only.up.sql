-- Issue 14: a format's days are dirty when its ACTIVE VERSION changes, not on every update of
-- its active_definitions row. Each classification run records `labelled_through` there
-- (migration 0015), and the 0013 trigger then marked every day of every deck of the format
-- dirty: after each nightly classification the "incremental" refresh recomputed the whole
-- history of the formats classified, and writing labels paid for finding those days.
-- Transition tables cannot be combined with a column list (UPDATE OF version_id), so the
-- function compares the old and new rows itself.
CREATE OR REPLACE FUNCTION stats_dirty_versions() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    f text[];
    d date[];
    versions integer[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(s.v) INTO versions FROM (
            SELECT o.version_id AS v FROM old_rows o LEFT JOIN new_rows n USING (format)
             WHERE n.version_id IS DISTINCT FROM o.version_id
            UNION
            SELECT n.version_id FROM new_rows n LEFT JOIN old_rows o USING (format)
             WHERE o.version_id IS DISTINCT FROM n.version_id) s;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(version_id) INTO versions FROM old_rows;
    ELSE
        SELECT array_agg(version_id) INTO versions FROM new_rows;
    END IF;
    IF versions IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(t.format), array_agg(t.event_date) INTO f, d
      FROM tournaments t
     WHERE t.id IN (SELECT x.tournament_id FROM decks x
                     WHERE x.id IN (SELECT a.deck_id FROM deck_archetypes a
                                     WHERE a.version_id = ANY (versions)));
    PERFORM stats_mark_days(f, d);
    RETURN NULL;
END
$$;
