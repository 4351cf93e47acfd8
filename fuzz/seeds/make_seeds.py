#!/usr/bin/env python3
"""Writes the fuzz corpora's seeds (fuzz/corpus/<target>/seed-*) from the golden payloads in
tests/fixtures/ and a few minimal documents per parser. Each seed is in the input layout its
target's doc comment describes (a flag or selector byte first, header lines, then the body).

Run from the repository root: python3 fuzz/seeds/make_seeds.py (scripts/fuzz.sh does it when a
corpus directory is missing). Deterministic; overwrites only the seed-* files.
"""
import json, os, pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
OUT = ROOT / "fuzz" / "corpus"


def compact(path):
    return json.dumps(json.loads((FIX / path).read_text()), separators=(",", ":")).encode()


def put(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


def lines(*parts):
    return b"".join(p.encode() + b"\n" for p in parts)


# Webhooks: flag byte 1 = sign the body (bit 0); 4 = read as a poll page (bit 2).
shop = "example.myshopify.com"
for topic, f in [("orders/create", "shopify_orders_create.json"), ("orders/cancelled", "shopify_orders_cancelled.json"),
                 ("refunds/create", "shopify_refunds_create.json"),
                 ("inventory_levels/update", "shopify_inventory_levels_update.json")]:
    put("webhook_shopify", topic.replace("/", "-"),
        bytes([1]) + lines(topic, shop, "evt-1", "2026-12-06T11:40:00Z", "") + compact("inbound/" + f))
put("webhook_shopify", "unsigned", bytes([0]) + lines("orders/create", shop, "", "", "AAAA") + b"{}")

woo = compact("inbound/woocommerce_order_727.json")
put("webhook_woocommerce", "order-updated",
    bytes([1]) + lines("order.updated", "https://shop.example.com", "12", "d-1", "") + woo)
put("webhook_woocommerce", "ping", bytes([0]) + lines("", "https://shop.example.com", "", "", "") + b"webhook_id=12")
put("webhook_woocommerce", "page", bytes([4]) + lines("", "", "", "", "") + b"[" + woo + b"]")

put("webhook_amazon", "order-change", bytes([1]) + lines("", "") + compact("inbound/amazon_order_change.json"))
put("webhook_amazon", "unsigned", bytes([0]) + lines("1796557500", "sha256=00") + b"{}")
put("webhook_amazon", "get-orders", bytes([4]) + lines("", "") + compact("inbound/amazon_get_orders.json"))
put("webhook_amazon", "get-order-items", bytes([4]) + lines("", "") + compact("inbound/amazon_get_order_items.json"))

put("webhook_ebay", "order-confirmation", bytes([1]) + lines("kid-1", "") + compact("inbound/ebay_order_confirmation.json"))
put("webhook_ebay", "sdk-vector", bytes([0]) + lines("", (FIX / "inbound/ebay_sdk_signature_header.txt").read_text().strip())
    + (FIX / "inbound/ebay_sdk_message.json").read_bytes().strip())
put("webhook_ebay", "public-key", bytes([4]) + lines("", "") + compact("inbound/ebay_sdk_public_key.json"))
put("webhook_ebay", "get-orders", bytes([4]) + lines("", "") + compact("inbound/ebay_get_orders.json"))

# Imports: flag byte 0 = set mode, the named format, whole-file read then 1-byte trickle.
put("import_shopify_product", "export",
    b"\0Handle,Title,Variant SKU,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Image Src\r\n"
    b"classic-tee,Classic Tee,TEE-RED-M,shopify,12,deny,\r\nclassic-tee,,TEE-RED-L,shopify,3,continue,\r\n"
    b"classic-tee,,,,,,https://cdn.example.com/tee.jpg\r\ngift-card,Gift card,GIFT,,,deny,\r\n")
put("import_shopify_product", "new-names", b"\x08URL handle,SKU,Inventory quantity,Continue selling when out of stock\n"
    b"mug,MUG-1,\"7\",FALSE\n")
put("import_shopify_inventory", "all-quantities",
    b"\0Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,Option3 Value,SKU,HS Code,COO,"
    b"Location,Incoming,Unavailable,Committed,Available,On hand\nmug,Mug,Title,Default Title,,,,,MUG-1,,,Shop location,0,0,2,8,10\n"
    b"mug,Mug,Title,Default Title,,,,,MUG-1,,,Warehouse East,0,0,0,4,4\n")
put("import_shopify_inventory", "available-only", b"\x02Handle,Title,SKU,Location,Available\nmug,Mug,MUG-1,Shop location,8\n")
put("import_shopify_inventory", "new-columns",
    b"\x01Handle,SKU,Location,On hand (current),On hand (new)\ntee,TEE/RED/M,Shop location,5,-2\n")
put("import_woocommerce", "full-export",
    b"\0ID,Type,SKU,Name,Parent,In stock?,Stock,Backorders allowed?\n10,variable,TEE,Tee,,1,,0\n"
    b"11,variation,TEE-RED-M,Tee - Red M,id:10,1,12,notify\n12,simple,MUG,Mug,,0,,1\n13,simple,POSTER,Poster,,1,'-0,0\n")
put("import_woocommerce", "stock-only", b"\x04SKU,In stock?,Stock,Backorders allowed?\nMUG,1,7,0\nPIN,1,,0\n")
put("import_plain", "plain", b"\0sku,quantity,location\r\nTEE/RED/M,12,main\r\nMUG,0,east\r\n\"PIN\",\"3\",\r\n,,\r\n")
put("import_plain", "adjust", b"\x01sku,quantity\nMUG,-3\nTEE,+4\nBAD SKU,1\nMUG,1.5\n")
put("import_plain", "ragged", b"\x18sku,quantity\nMUG,1,extra\n\"open,2\n")
put("import_mapped", "erp-semicolon",
    b"\0" + json.dumps({"columns": {"sku": "Item No.", "quantity": "Qty On Hand", "location": "Warehouse"},
                        "locations": {"Main Warehouse": "main"}}).encode() + b"\n"
    + (FIX / "import/erp_semicolon_bom_crlf.csv").read_bytes())
put("import_mapped", "tab", b"\x01" + json.dumps({"columns": {"sku": "Artikel", "quantity": "Bestand"}, "delimiter": "\t",
                                                   "mode": "adjust"}).encode() + b"\nArtikel\tBestand\nA-1\t-2\n")

# JSON bodies: selector byte = route (see json_requests.rs).
bodies = [
    {"on_hand": 12, "location": "east", "expected_version": 3, "reason": "count", "backorder_limit": 2},
    {"delta": -3, "reason": "damaged", "location": "main"},
    {"id": "cart-1", "lines": [{"sku": "TEE/RED/M", "qty": 2}, {"sku": "MUG", "qty": 1, "location": "east"}],
     "ttl_seconds": 600, "channel": "web", "reference": "r"},
    {"hot": True, "allotments": 4, "block": 10, "lease_seconds": 30},
    {"order_id": "1001"},
    {"ttl_seconds": 300},
    {"channel": "web", "order_id": "1001", "lines": [{"sku": "MUG", "qty": 1, "line_id": "l1"}]},
    {"reason": "customer"},
    {"order_id": "1001", "lines": [{"sku": "MUG", "qty": 1}]},
    {"name": "Mug", "barcode": "4006381333931", "components": [{"sku": "CUP", "qty": 2}]},
    {"name": "East"},
    {"kind": "shopify", "account": "example.myshopify.com", "settings": {"location": "main", "on_drift": "flag"}},
    {"external": {"inventory_item_id": 808950810}, "rule": {"buffer": 2, "max": 100}},
    {"snapshot": "sap-1", "basis": "on_hand", "as_of": {"sequence": 12}, "seen_through": 5,
     "lines": [{"sku": "MUG", "quantity": 7, "location": "east"}]},
]
for i, b in enumerate(bodies):
    put("json_requests", f"route-{i}", bytes([i]) + json.dumps(b).encode())
put("json_strict", "nested", json.dumps(bodies[2]).encode())
put("json_strict", "duplicate", b'{"lines":[{"sku":"E1","qty":-1,"qty":1}]}')
put("json_strict", "escapes", b'{"a\\u0062":"\\ud83d\\ude00","n":[1e3,-0,2.5e-3,null,true]}')

for i, (m, p) in enumerate([(0, "/v1/skus/TEE%2FRED%2FM"), (2, "/v1/skus/MUG/stock"), (1, "/v1/reservations/cart-1/commit"),
                            (1, "/v1/sales/web/1001/cancel"), (0, "/v1/erp/connections/sap/runs"), (3, "/v1/import-mappings/m1"),
                            (1, "/v1/alerts/7/acknowledge"), (0, "/v1/products/TEE/listings/web"), (1, "/v1/webhooks/ebay"),
                            (0, "/problems/invalid-json"), (0, "/v1/skus/a/../b")]):
    put("path_and_sku", f"path-{i}", bytes([m]) + p.encode())

put("queries", "availability", b"sku=MUG&sku=TEE/RED/M&channel=web&consistency=strong")
put("queries", "pages", b"after=12&limit=50&format=shopify-inventory&mode=adjust&dry_run=1&mapping=m1")

put("x12_850", "acme", (FIX / "edi/po_850_acme.x12").read_bytes())
put("x12_850", "one-line", (FIX / "edi/po_850_acme.x12").read_bytes().replace(b"\n", b""))

put("erp_snapshot_csv", "semicolon",
    b"snapshot=sap-1&basis=available&as_of.sequence=12\n\xef\xbb\xbfQuantity;SKU;Location\n7;TEE-1;east\n-2;MUG;\n")
put("erp_snapshot_csv", "comma", b"snapshot=s&basis=on_hand&as_of.at=2026-12-06T10:00:00Z&seen_through=9\nsku,quantity\nA,1\n")
