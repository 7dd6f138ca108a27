DROP INDEX IF EXISTS ix_deck_archetypes_label;
DROP INDEX IF EXISTS ix_decks_player_lower;
DROP INDEX IF EXISTS ix_tournaments_recent;
DROP INDEX IF EXISTS ix_tournaments_format_recent;
DROP TRIGGER IF EXISTS users_token_version ON users;
DROP FUNCTION IF EXISTS users_bump_token_version();
ALTER TABLE users DROP COLUMN IF EXISTS token_version;
