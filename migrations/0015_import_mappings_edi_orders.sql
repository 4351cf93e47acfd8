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

-- Wholesale purchase orders received as X12 850 (`POST /v1/edi/850`, src/inbound/purchase_orders.rs):
-- one row per (channel, PO number) once it was applied, with the ACKs StockEdge answered for
-- each of its lines (JSON), so a repeated 850 is acknowledged as the first one was.
CREATE TABLE edi_purchase_orders (
  channel TEXT NOT NULL,
  po_number TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  acks TEXT NOT NULL CHECK (json_valid(acks)),
  received_at INTEGER NOT NULL,
  PRIMARY KEY (channel, po_number)
) STRICT;
