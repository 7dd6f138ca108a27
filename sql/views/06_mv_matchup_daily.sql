-- mv_matchup_daily: matchup cells per (format, day, event kind, archetype, opponent
-- archetype), every counted match once from each side: [A, B] holds A's wins, losses and
-- draws against B and [B, A] the mirror image. The diagonal [A, A] holds A's mirror
-- matches from both sides (a decisive mirror = one win + one loss, a drawn one = 2 draws).
-- Fills the days in refresh_days; a match is in its tournament's day, like both its decks.
INSERT INTO mv_matchup_daily
SELECT a.format, a.event_date, a.event_kind, a.archetype, o.archetype AS opponent,
       count(*) FILTER (WHERE s.result > 0)::int AS wins,
       count(*) FILTER (WHERE s.result < 0)::int AS losses,
       count(*) FILTER (WHERE s.result = 0)::int AS draws
  FROM v_match_sides s
  JOIN mv_deck_facts a ON a.deck_id = s.deck_id
  JOIN mv_deck_facts o ON o.deck_id = s.opp_deck_id
 WHERE s.tournament_id IN (SELECT id FROM refresh_tournaments)
 GROUP BY a.format, a.event_date, a.event_kind, a.archetype, o.archetype;
