-- Order-feed polls (issue 6): the catch-up for webhooks that were missed. Written by
-- src/edge/inbound_poll.rs; which stretch of a feed a run reads is decided in src/inbound/poll/.
-- Times are milliseconds since the Unix epoch.

-- One row per polled channel (WooCommerce, Amazon, eBay): its watermark and unfinished stretch
-- (`state`, src/inbound/poll/window.rs PollState as JSON), a lease so that overlapping cron runs
-- never poll one channel twice at once, and what the runs did.
CREATE TABLE inbound_polls (
  channel TEXT PRIMARY KEY NOT NULL,
  state TEXT NOT NULL CHECK (json_valid(state)),
  -- a run holds the channel until then (0: free)
  lease_until INTEGER NOT NULL DEFAULT 0,
  last_run_at INTEGER,
  -- the last run that read its stretch without an error
  last_ok_at INTEGER,
  last_error TEXT,
  orders_read INTEGER NOT NULL DEFAULT 0,
  orders_applied INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The content fingerprint of each order a poll applied (or found unusable), so that the same
-- order read again unchanged — stretches overlap — costs no call. Kept 7 days.
CREATE TABLE inbound_poll_seen (
  channel TEXT NOT NULL,
  order_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (channel, order_id)
) STRICT;

CREATE INDEX inbound_poll_seen_by_time ON inbound_poll_seen (seen_at);
