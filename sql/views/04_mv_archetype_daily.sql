-- mv_archetype_daily: per (format, day, event kind, archetype): decks, distinct players of
-- that day, counted results (mirrors excluded from W/L/D), mirror matches and match seats
-- (seats = wins + losses + draws + 2 × mirrors: a mirror seats the archetype twice), and
-- the records basis (rec_*, rec_decks) and matches-basis coverage (covered).
-- Everything but players sums across days and event kinds; use
-- mv_player_archetype_daily for players over several days.
-- Fills the days in refresh_days (pipelines.stats.aggregates).
INSERT INTO mv_archetype_daily
SELECT format, event_date, event_kind, archetype,
       sum(decks)::int AS decks,
       count(*)::int AS players,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws,
       (sum(mirror_seats) / 2)::int AS mirrors,
       sum(wins + losses + draws + mirror_seats)::int AS seats,
       sum(covered)::int AS covered,
       sum(rec_wins)::int AS rec_wins,
       sum(rec_losses)::int AS rec_losses,
       sum(rec_draws)::int AS rec_draws,
       sum(rec_decks)::int AS rec_decks
  FROM mv_player_archetype_daily
 WHERE (format, event_date) IN (SELECT format, event_date FROM refresh_days)
 GROUP BY format, event_date, event_kind, archetype;
