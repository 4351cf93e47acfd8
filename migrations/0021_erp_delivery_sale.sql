-- Orders to the ERP: which change's sale an order's document belongs to (erp::delivery::split_addition).
-- A sale recorded by another change of the same order and SKU is an addition, delivered as its own
-- document (`<reference>+<ms of its change>`). NULL: no sale has reached the row yet (a cancellation
-- or a shipment came first). Documents created before this column existed belong to their first
-- change, the time they were created from.
ALTER TABLE erp_deliveries ADD COLUMN sale_change_at INTEGER;
UPDATE erp_deliveries SET sale_change_at = first_change_at WHERE state = 'open';
