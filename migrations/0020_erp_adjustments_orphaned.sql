-- Forwarded adjustment requests whose ERP connection was deleted (issue 13 point 4): deleting a
-- connection now marks its pending requests `dead` (`db::erp::delete_connection`, the reason from
-- `erp::adjustment_out::connection_deleted`); requests left `pending` by deletes made before
-- that are marked here, once. Requests of a disabled connection stay pending (it may be enabled
-- again). Times are milliseconds since the Unix epoch.
UPDATE erp_adjustment_requests
  SET status = 'dead',
      last_error = 'ERP connection ' || connection || ' was deleted before the request was sent: forward the change '
        || 'again to the connection that masters the location now',
      next_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
  WHERE status = 'pending' AND connection NOT IN (SELECT id FROM erp_connections);
