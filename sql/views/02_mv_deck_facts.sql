-- mv_deck_facts: one row per deck with everything the other views group by (format, day,
-- Monday of the week, event kind, player, archetype label, colour) and its counted results.
-- Base of every other statistics table: filled first.
-- Fills the decks of the tournaments in refresh_tournaments (the tournaments of the days
-- being refreshed, see pipelines.stats.aggregates). A deck's row depends only on rows of
-- its own tournament (its label, standing, byes and matches, and its opponents' labels).
--   * label: the deck's row in current_deck_archetypes; a deck without one is 'Unknown'
--     (colour 'Unknown'). DISTINCT ON guards against a deck labelled under two active
--     versions (newest version wins) so a classification slip cannot double-count a deck.
--   * wins/losses/draws: counted matches (v_match_sides) against a *different* archetype;
--     mirror_seats: counted matches against the same archetype (a mirror between two decks
--     gives each deck one seat, so an archetype's mirror matches = Σ mirror_seats / 2).
--   * record_*: the deck's own record for "best decks" lists: its standing when it has one,
--     else its "W-L" result string, else its counted matches (mirrors included).
--   * archetype: the label's display name (archetype_names, filled by the refresh before the
--     views; the label itself until then); name_raw: the label as classified.
--   * counted: the deck's counted matches, mirrors included (matches-basis coverage).
--   * rec_*: the records basis (METHODOLOGY.md §4): the standing (else the "W-L" result) of
--     the deck minus its bye rounds (a bye is a win in MTGO and Melee standings; a bye
--     recorded as a loss is a forfeit; 0-0-0 byes were never reported); NULL without a
--     standing or result record.
INSERT INTO mv_deck_facts
WITH label AS (
    SELECT DISTINCT ON (deck_id) deck_id, archetype, color, companion
      FROM current_deck_archetypes
     WHERE deck_id IN (SELECT d.id FROM decks d
                        WHERE d.tournament_id IN (SELECT id FROM refresh_tournaments))
     ORDER BY deck_id, version_id DESC
), bye AS (
    SELECT deck_id,
           count(*) FILTER (WHERE own > opp OR (own = opp AND draw_games > 0)) AS wins,
           count(*) FILTER (WHERE own < opp) AS losses
      FROM (SELECT deck1_id AS deck_id, p1_games AS own, p2_games AS opp, draw_games
              FROM matches WHERE is_bye AND deck1_id IS NOT NULL
               AND tournament_id IN (SELECT id FROM refresh_tournaments)
            UNION ALL
            SELECT deck2_id, p2_games, p1_games, draw_games
              FROM matches WHERE is_bye AND deck2_id IS NOT NULL
               AND tournament_id IN (SELECT id FROM refresh_tournaments)) b
     GROUP BY deck_id
), standing AS (
    SELECT DISTINCT ON (deck_id) deck_id, wins, losses, draws
      FROM standings
     WHERE deck_id IS NOT NULL AND wins IS NOT NULL AND losses IS NOT NULL
       AND tournament_id IN (SELECT id FROM refresh_tournaments)
     ORDER BY deck_id, tournament_id, position
), deck AS (
    SELECT d.id AS deck_id, d.tournament_id, t.format, t.event_date,
           date_trunc('week', t.event_date)::date AS week_start, t.event_kind,
           d.player_key,
           coalesce(n.name, l.archetype, 'Unknown') AS archetype,
           coalesce(l.archetype, 'Unknown') AS name_raw,
           coalesce(l.color, 'Unknown') AS color,
           coalesce(l.companion, '') AS companion,
           d.main_total, d.side_total, d.rank,
           d.record_wins, d.record_losses, d.record_draws
      FROM decks d
      JOIN tournaments t ON t.id = d.tournament_id
      LEFT JOIN label l ON l.deck_id = d.id
      LEFT JOIN archetype_names n ON n.format = t.format AND n.name_raw = l.archetype
     WHERE d.tournament_id IN (SELECT id FROM refresh_tournaments)
), result AS (
    SELECT s.deck_id,
           count(*) FILTER (WHERE s.result > 0 AND a.archetype <> o.archetype) AS wins,
           count(*) FILTER (WHERE s.result < 0 AND a.archetype <> o.archetype) AS losses,
           count(*) FILTER (WHERE s.result = 0 AND a.archetype <> o.archetype) AS draws,
           count(*) FILTER (WHERE a.archetype = o.archetype) AS mirror_seats,
           count(*) FILTER (WHERE s.result > 0) AS all_wins,
           count(*) FILTER (WHERE s.result < 0) AS all_losses,
           count(*) FILTER (WHERE s.result = 0) AS all_draws
      FROM v_match_sides s
      JOIN deck a ON a.deck_id = s.deck_id
      JOIN deck o ON o.deck_id = s.opp_deck_id
     WHERE s.tournament_id IN (SELECT id FROM refresh_tournaments)
     GROUP BY s.deck_id
)
SELECT deck.deck_id, deck.tournament_id, deck.format, deck.event_date, deck.week_start,
       deck.event_kind, deck.player_key, deck.archetype, deck.name_raw, deck.color,
       deck.companion,
       deck.main_total, deck.side_total, deck.rank,
       coalesce(r.wins, 0)::int AS wins,
       coalesce(r.losses, 0)::int AS losses,
       coalesce(r.draws, 0)::int AS draws,
       coalesce(r.mirror_seats, 0)::int AS mirror_seats,
       coalesce(r.all_wins + r.all_losses + r.all_draws, 0)::int AS counted,
       CASE WHEN st.deck_id IS NOT NULL THEN greatest(st.wins - coalesce(b.wins, 0), 0)
            WHEN deck.record_wins IS NOT NULL
                THEN greatest(deck.record_wins - coalesce(b.wins, 0), 0)
       END::int AS rec_wins,
       CASE WHEN st.deck_id IS NOT NULL THEN greatest(st.losses - coalesce(b.losses, 0), 0)
            WHEN deck.record_wins IS NOT NULL
                THEN greatest(coalesce(deck.record_losses, 0) - coalesce(b.losses, 0), 0)
       END::int AS rec_losses,
       CASE WHEN st.deck_id IS NOT NULL THEN coalesce(st.draws, 0)
            WHEN deck.record_wins IS NOT NULL THEN coalesce(deck.record_draws, 0)
       END::int AS rec_draws,
       CASE WHEN st.deck_id IS NOT NULL THEN 'standings'
            WHEN deck.record_wins IS NOT NULL THEN 'result'
            ELSE 'matches' END AS record_source,
       CASE WHEN st.deck_id IS NOT NULL THEN st.wins
            WHEN deck.record_wins IS NOT NULL THEN deck.record_wins
            ELSE coalesce(r.all_wins, 0)::int END AS record_wins,
       CASE WHEN st.deck_id IS NOT NULL THEN st.losses
            WHEN deck.record_wins IS NOT NULL THEN coalesce(deck.record_losses, 0)
            ELSE coalesce(r.all_losses, 0)::int END AS record_losses,
       CASE WHEN st.deck_id IS NOT NULL THEN coalesce(st.draws, 0)
            WHEN deck.record_wins IS NOT NULL THEN coalesce(deck.record_draws, 0)
            ELSE coalesce(r.all_draws, 0)::int END AS record_draws
  FROM deck
  LEFT JOIN result r ON r.deck_id = deck.deck_id
  LEFT JOIN standing st ON st.deck_id = deck.deck_id
  LEFT JOIN bye b ON b.deck_id = deck.deck_id;
