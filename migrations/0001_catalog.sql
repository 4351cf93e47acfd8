-- The catalogue (issue 4): products and variants with bundle components, locations, channel
-- connections, listings with their rules, and the answers kept for Idempotency-Key replays.
-- Applied with `wrangler d1 migrations apply stockedge-catalog --local` (local state) or
-- `--remote` (production, before a deploy). Times are milliseconds since the Unix epoch.
-- Validation lives in src/catalog/model.rs; the constraints here are the backstop.

-- One row per SKU (a product variant).
CREATE TABLE products (
  sku TEXT PRIMARY KEY NOT NULL,
  title TEXT,
  barcode TEXT,
  tracked INTEGER NOT NULL DEFAULT 1 CHECK (tracked IN (0, 1)),
  backorder_limit INTEGER CHECK (backorder_limit BETWEEN 0 AND 1000000),
  low_stock_threshold INTEGER CHECK (low_stock_threshold >= 0),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- A bundle SKU is its components in fixed quantities. Components need not be catalogued.
CREATE TABLE bundle_components (
  bundle_sku TEXT NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
  component_sku TEXT NOT NULL,
  qty INTEGER NOT NULL CHECK (qty BETWEEN 1 AND 1000000),
  position INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (bundle_sku, component_sku),
  CHECK (bundle_sku <> component_sku)
) STRICT;

CREATE INDEX bundle_components_by_component ON bundle_components (component_sku);

-- Bundles do not nest: a component may not be a bundle, and a bundle may not be a component.
CREATE TRIGGER bundle_components_no_nesting
BEFORE INSERT ON bundle_components
WHEN EXISTS (SELECT 1 FROM bundle_components WHERE bundle_sku = NEW.component_sku)
  OR EXISTS (SELECT 1 FROM bundle_components WHERE component_sku = NEW.bundle_sku)
BEGIN
  SELECT RAISE(ABORT, 'nested bundle');
END;

CREATE TABLE locations (
  location TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- A connection to a sales channel. Credentials are the NAME of a Worker secret, never a value.
CREATE TABLE channels (
  channel TEXT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('shopify', 'woocommerce', 'amazon', 'ebay', 'wholesale')),
  account TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  credentials_secret TEXT CHECK (credentials_secret IS NULL OR credentials_secret GLOB '[A-Z]*'),
  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX channels_by_account ON channels (kind, account);

-- A SKU listed on a channel: its identity there (`external`, JSON per channel kind), the
-- identity's mapping key, and the listing's rule (what share of availability it shows).
-- One listing per (channel, sku); one identity per channel maps to one SKU.
CREATE TABLE listings (
  channel TEXT NOT NULL REFERENCES channels (channel) ON DELETE CASCADE,
  sku TEXT NOT NULL,
  identity TEXT NOT NULL,
  external TEXT NOT NULL CHECK (json_valid(external)),
  buffer INTEGER NOT NULL DEFAULT 0 CHECK (buffer BETWEEN 0 AND 1000000),
  percent INTEGER NOT NULL DEFAULT 100 CHECK (percent BETWEEN 0 AND 100),
  max_listed INTEGER CHECK (max_listed BETWEEN 0 AND 1000000000),
  zero_at_or_below INTEGER CHECK (zero_at_or_below BETWEEN 0 AND 1000000),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, sku)
) STRICT;

CREATE UNIQUE INDEX listings_by_identity ON listings (channel, identity);
CREATE INDEX listings_by_sku ON listings (sku);

-- The first answer to a catalogue PUT sent with an Idempotency-Key, replayed for 24 h.
CREATE TABLE catalog_replays (
  key TEXT PRIMARY KEY NOT NULL,
  fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;

CREATE INDEX catalog_replays_by_at ON catalog_replays (at);
