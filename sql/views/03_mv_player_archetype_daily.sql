-- mv_player_archetype_daily: per (format, day, event kind, archetype, player) the player's
-- decks and counted results with that archetype. Distinct players cannot be summed across
-- days, so every window (standard or custom) aggregates this grain: players = distinct
-- player_key, and the per-player (W, L) feed the player-clustered CR2 interval exactly.
-- Both win-rate bases (METHODOLOGY.md §4): wins/losses/draws/mirror_seats (matches basis,
-- covered = decks with a counted match) and rec_* (records basis, rec_decks = decks with a
-- record of at least one match).
-- Fills the days in refresh_days (pipelines.stats.aggregates).
INSERT INTO mv_player_archetype_daily
SELECT format, event_date, event_kind, archetype, player_key,
       count(*)::int AS decks,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws,
       sum(mirror_seats)::int AS mirror_seats,
       (count(*) FILTER (WHERE counted > 0))::int AS covered,
       coalesce(sum(rec_wins), 0)::int AS rec_wins,
       coalesce(sum(rec_losses), 0)::int AS rec_losses,
       coalesce(sum(rec_draws), 0)::int AS rec_draws,
       (count(*) FILTER (WHERE rec_wins + rec_losses + rec_draws > 0))::int AS rec_decks
  FROM mv_deck_facts
 WHERE (format, event_date) IN (SELECT format, event_date FROM refresh_days)
 GROUP BY format, event_date, event_kind, archetype, player_key;
