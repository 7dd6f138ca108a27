-- mv_player_archetype_daily: per (format, day, event kind, archetype, player) the player's
-- decks and counted results with that archetype. Distinct players cannot be summed across
-- days, so every window (standard or custom) aggregates this grain: players = distinct
-- player_key, and the per-player (W, L) feed the player-clustered CR2 interval exactly.
CREATE MATERIALIZED VIEW mv_player_archetype_daily AS
SELECT format, event_date, event_kind, archetype, player_key,
       count(*)::int AS decks,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws,
       sum(mirror_seats)::int AS mirror_seats
  FROM mv_deck_facts
 GROUP BY format, event_date, event_kind, archetype, player_key
WITH DATA;

CREATE UNIQUE INDEX ux_mv_player_archetype_daily
    ON mv_player_archetype_daily (format, event_date, event_kind, archetype, player_key);
