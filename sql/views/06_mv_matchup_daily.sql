-- mv_matchup_daily: matchup cells per (format, day, event kind, archetype, opponent
-- archetype), every counted match once from each side: [A, B] holds A's wins, losses and
-- draws against B and [B, A] the mirror image. The diagonal [A, A] holds A's mirror
-- matches from both sides (a decisive mirror = one win + one loss, a drawn one = 2 draws).
CREATE MATERIALIZED VIEW mv_matchup_daily AS
SELECT a.format, a.event_date, a.event_kind, a.archetype, o.archetype AS opponent,
       count(*) FILTER (WHERE s.result > 0)::int AS wins,
       count(*) FILTER (WHERE s.result < 0)::int AS losses,
       count(*) FILTER (WHERE s.result = 0)::int AS draws
  FROM v_match_sides s
  JOIN mv_deck_facts a ON a.deck_id = s.deck_id
  JOIN mv_deck_facts o ON o.deck_id = s.opp_deck_id
 GROUP BY a.format, a.event_date, a.event_kind, a.archetype, o.archetype
WITH DATA;

CREATE UNIQUE INDEX ux_mv_matchup_daily
    ON mv_matchup_daily (format, event_date, event_kind, archetype, opponent);
