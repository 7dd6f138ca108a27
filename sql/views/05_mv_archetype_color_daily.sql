-- mv_archetype_color_daily: the colour split of each archetype per (format, day, event
-- kind): decks and counted non-mirror results per colour code ('Unknown' for unlabelled
-- decks).
CREATE MATERIALIZED VIEW mv_archetype_color_daily AS
SELECT format, event_date, event_kind, archetype, color,
       count(*)::int AS decks,
       sum(wins)::int AS wins,
       sum(losses)::int AS losses,
       sum(draws)::int AS draws
  FROM mv_deck_facts
 GROUP BY format, event_date, event_kind, archetype, color
WITH DATA;

CREATE UNIQUE INDEX ux_mv_archetype_color_daily
    ON mv_archetype_color_daily (format, event_date, event_kind, archetype, color);
