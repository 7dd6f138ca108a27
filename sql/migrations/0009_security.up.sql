-- Issue 12: token revocation that bites, and list reads that do not grow with history.
--
-- users.token_version: the account's security stamp. Every access and refresh token carries
-- the version it was issued under (claim "ver"); a request whose token carries another
-- version than the account's current one is refused. The trigger bumps it on every change
-- of roles, disabled flag or password, whoever makes it (API, CLI, or plain SQL), so old
-- tokens die at once; deleting the row kills them too (no account, no version).
ALTER TABLE users ADD COLUMN token_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION users_bump_token_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- password_changed_at, not password_hash: the re-hash at a higher cost on login keeps
    -- the password and must not log the user out (pipelines.auth.users sets the time on
    -- every real change).
    IF NEW.roles IS DISTINCT FROM OLD.roles
       OR NEW.disabled IS DISTINCT FROM OLD.disabled
       OR NEW.password_changed_at IS DISTINCT FROM OLD.password_changed_at THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_token_version BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_bump_token_version();

-- GET /api/v1/decks and /tournaments walk these in their display order and stop after one
-- page (keyset-friendly); filters by player and archetype start from their own index.
CREATE INDEX ix_tournaments_format_recent ON tournaments (format, event_date DESC, id DESC);
CREATE INDEX ix_tournaments_recent ON tournaments (event_date DESC, id DESC);
CREATE INDEX ix_decks_player_lower ON decks (lower(player));
CREATE INDEX ix_deck_archetypes_label ON deck_archetypes (archetype, version_id);
