-- Issue 14: the standard windows (last 7/14/30/90 days, current period) of the formats a
-- night touched are recomputed by every refresh from mv_player_archetype_daily and
-- mv_matchup_daily over a range of days. Their rows of a range were read through the unique
-- (format, event_date, ...) index and then one heap page per row (the heap is in insertion
-- order, not by day): ~7,400 pages for a 90-day Modern window at 500k decks, most of a
-- night's refresh. The unique indexes now carry the value columns (INCLUDE: uniqueness still
-- on the key columns only), so a range is one index-only range scan.
SET LOCAL jit = off;

CREATE UNIQUE INDEX ux_mv_player_archetype_daily_new
    ON mv_player_archetype_daily (format, event_date, event_kind, archetype, player_key)
    INCLUDE (decks, wins, losses, draws, mirror_seats, covered, rec_wins, rec_losses,
             rec_draws, rec_decks);
DROP INDEX ux_mv_player_archetype_daily;
ALTER INDEX ux_mv_player_archetype_daily_new RENAME TO ux_mv_player_archetype_daily;

CREATE UNIQUE INDEX ux_mv_matchup_daily_new
    ON mv_matchup_daily (format, event_date, event_kind, archetype, opponent)
    INCLUDE (wins, losses, draws);
DROP INDEX ux_mv_matchup_daily;
ALTER INDEX ux_mv_matchup_daily_new RENAME TO ux_mv_matchup_daily;
