-- Saved column mappings for stock files (src/import/mapping.rs): `PUT /v1/import-mappings/{name}`
-- stores one, `POST /v1/imports?mapping=<name>` reads a file through it. `mapping` is the
-- validated mapping as JSON (columns, delimiter, locations, mode). Times are milliseconds since
-- the Unix epoch.
CREATE TABLE import_mappings (
  name TEXT PRIMARY KEY NOT NULL,
  mapping TEXT NOT NULL CHECK (json_valid(mapping)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
