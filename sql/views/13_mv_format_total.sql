-- mv_format_total: decks per (format, event kind) over the whole history (the formats
-- overview). Kept by the triggers of migration 0020; refilled from this statement by a full
-- refresh (migration 0026).
INSERT INTO mv_format_total
SELECT format, event_kind, sum(decks) FROM mv_archetype_daily GROUP BY 1, 2;
