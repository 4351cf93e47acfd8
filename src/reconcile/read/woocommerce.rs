//! WooCommerce: a listing's `stock_quantity`, read with REST v3 `GET /wp-json/wc/v3/products/{id}`
//! (a simple product) or `GET /wp-json/wc/v3/products/{id}/variations/{variation_id}`, HTTP Basic
//! with the consumer key and secret (woocommerce.github.io/woocommerce-rest-api-docs, "Retrieve a
//! product", "Retrieve a product variation"). An unknown id answers 404
//! `woocommerce_rest_product_invalid_id` (or `…_variation_invalid_id`). `stock_quantity` is `null`
//! when the product does not manage stock: then there is no quantity to compare (unreadable).

use serde_json::{Map, Value};

use super::{json_answer, quantity, Read, ReadError};
use crate::catalog::model::External;
use crate::sync::http::basic_auth;
use crate::sync::woocommerce::WoocommerceIdentity;
use crate::sync::{HttpRequest, HttpResponse, Method};
use crate::time::Millis;

/// The registry's WooCommerce read.
pub const READ: Read = Read { request, answer, pacing: None };

/// The path that reads the listing's product or variation.
pub fn product_path(id: WoocommerceIdentity) -> String {
    match id.variation_id.filter(|v| *v > 0) {
        Some(v) => format!("/wp-json/wc/v3/products/{}/variations/{v}", id.product_id),
        None => format!("/wp-json/wc/v3/products/{}", id.product_id),
    }
}

fn request(secret: &str, _: &Map<String, Value>, e: &External, _: Millis) -> Result<HttpRequest, ReadError> {
    let id = WoocommerceIdentity::of(e).ok_or_else(|| ReadError::NotReadable("not a WooCommerce identity".into()))?;
    let (key, pass) = secret
        .split_once(':')
        .ok_or_else(|| ReadError::Credentials("the channel's secret is not consumer_key:consumer_secret".into()))?;
    Ok(HttpRequest::new(Method::Get, product_path(id)).header("Authorization", basic_auth(key, pass)))
}

fn answer(response: &HttpResponse, now: Millis) -> Result<i64, ReadError> {
    let v = json_answer(response, now)?;
    if v.get("manage_stock").and_then(Value::as_bool) == Some(false) {
        return Err(ReadError::Unreadable("the product does not manage stock".into()));
    }
    quantity(v.get("stock_quantity"), "stock_quantity")
}
