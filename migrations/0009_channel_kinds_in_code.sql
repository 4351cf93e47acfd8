-- Channel kinds are validated in code (`catalog::model::ChannelKind`), not by the schema: a new
-- platform is a new kind in Rust and needs no migration. SQLite cannot drop a CHECK, so
-- `channels` is rebuilt without `CHECK (kind IN (…))`: new table, copy, drop, rename, indexes.
-- Every other constraint, and every row, is kept.
--
-- `listings` references `channels` (ON DELETE CASCADE), and dropping the old table deletes its
-- rows first, which cascades to the listings: they are kept aside and put back once the new
-- table holds every channel. The foreign key checks are deferred to the end of the migration.
PRAGMA defer_foreign_keys = on;

CREATE TABLE listings_kept AS SELECT * FROM listings;

CREATE TABLE channels_new (
  channel TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  account TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  credentials_secret TEXT CHECK (credentials_secret IS NULL OR credentials_secret GLOB '[A-Z]*'),
  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

INSERT INTO channels_new (channel, kind, account, enabled, credentials_secret, settings, created_at, updated_at)
  SELECT channel, kind, account, enabled, credentials_secret, settings, created_at, updated_at FROM channels;

DROP TABLE channels;
ALTER TABLE channels_new RENAME TO channels;

CREATE INDEX channels_by_account ON channels (kind, account);

INSERT INTO listings (channel, sku, identity, external, buffer, percent, max_listed, zero_at_or_below, created_at, updated_at)
  SELECT channel, sku, identity, external, buffer, percent, max_listed, zero_at_or_below, created_at, updated_at
  FROM listings_kept;
DROP TABLE listings_kept;

PRAGMA defer_foreign_keys = off;
