-- mv_archetype_color_daily: the colour split of each archetype per (format, day, event
-- kind): decks and counted non-mirror results per colour code ('Unknown' for unlabelled
-- decks).
-- Fills the days in refresh_days (pipelines.stats.aggregates).
INSERT INTO mv_archetype_color_daily
SELECT format, event_date, event_kind, archetype, color,
       count(*)::int AS decks,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws
  FROM mv_deck_facts
 WHERE (format, event_date) IN (SELECT format, event_date FROM refresh_days)
 GROUP BY format, event_date, event_kind, archetype, color;
