-- eBay allows a listing at most 250 revisions per calendar day: how many StockEdge made today.
ALTER TABLE listing_sync ADD COLUMN revisions_day INTEGER NOT NULL DEFAULT 0; -- days since 1970-01-01 (UTC)
ALTER TABLE listing_sync ADD COLUMN revisions INTEGER NOT NULL DEFAULT 0;
