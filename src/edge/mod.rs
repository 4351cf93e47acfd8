//! The Cloudflare Workers shell: HTTP in, core decisions, bindings out. Nothing here decides
//! anything about stock; it translates.

mod alert_watch;
mod alerts;
mod alerts_out;
mod allotment_object;
mod auth;
mod availability_cache;
mod bundle_listings;
mod cart_object;
mod catalog;
mod catalog_reads;
mod clock;
mod cors;
mod ebay_token;
mod erp;
mod erp_adjust_vendors;
mod erp_adjustments;
mod erp_connections;
mod erp_master;
mod erp_netsuite;
mod erp_orders;
mod erp_poll;
mod erp_webhook_in;
mod handlers;
mod hot;
mod http;
mod import_jobs;
mod import_mappings;
mod imports;
mod inbound_admin;
mod inbound_apply;
mod inbound_poll;
mod key_registry;
mod limits;
mod listing_advice;
mod listing_preview;
mod metrics;
mod object_sql;
mod order_client;
mod order_object;
mod overview;
mod platform_http;
mod purchase_orders;
mod rate_limit;
mod reconcile;
mod repush;
mod rpc;
mod secrets;
mod sku_client;
mod sku_listings;
mod sku_object;
mod store;
mod sync_admin;
mod sync_consumer;
mod tokens;
mod unmatched_map;
mod webhooks;

use worker::{event, Context, Env, Request, Response, Result};

use crate::access::need;
use crate::api::problem::from_fault;
use crate::api::request_log::{RequestId, RequestLog, RequestLogMode, RouteLabel, GENERATED_ID_BYTES, REQUEST_LOG_VAR};
use crate::api::routes::{is_public, resolve, Route};
use crate::api::Problem;
use crate::fault::Fault;

/// A `worker` error that reached the shell's boundary: the runtime refused an operation.
impl From<worker::Error> for Fault {
    fn from(e: worker::Error) -> Fault {
        Fault::Runtime(e.to_string())
    }
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Every request: answered by [`serve`], then logged as one JSON line (`api::request_log`).
#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let started = clock::now();
    let method = req.method().to_string();
    let path = req.path();
    let cf_ray = req.headers().get("cf-ray").ok().flatten();
    let id = RequestId::of(cf_ray.as_deref(), || {
        let mut b = [0u8; GENERATED_ID_BYTES];
        // Without randomness the id is all zeros: the line is still written.
        let _ = getrandom::fill(&mut b);
        b
    });
    let origin = req.headers().get("origin").ok().flatten();
    if method == "OPTIONS" {
        // A CORS preflight (or any OPTIONS): no token, no route; `access::cors` decides.
        let answer = cors::preflight(&env, origin.as_deref());
        let status = answer.as_ref().map_or(500, Response::status_code);
        if request_log_mode(&env).logs(status) {
            worker::console_log!(
                "{}",
                RequestLog::new(id, &method, RouteLabel::of(None), status, started, clock::now()).line()
            );
        }
        return answer;
    }
    let route = resolve(&method, &path);
    let label = RouteLabel::of(route.as_ref().ok());
    let hold = matches!(route, Ok(Route::CreateReservation));
    let answer = serve(route, &method, &path, req, &env).await.map(|r| cors::actual(&env, origin.as_deref(), r));
    if let (true, Ok(resp)) = (hold, answer.as_ref()) {
        // Refused holds are counted here, where every path's refusal is seen (`metrics::refusals`);
        // nothing awaited: the flush runs after the answer is sent.
        if let Some(flush) = metrics::hold_answered(resp, &env) {
            ctx.wait_until(flush);
        }
    }
    // An `Err` reaches the runtime, which answers 500.
    let status = answer.as_ref().map_or(500, Response::status_code);
    if request_log_mode(&env).logs(status) {
        worker::console_log!("{}", RequestLog::new(id, &method, label, status, started, clock::now()).line());
    }
    answer
}

/// `REQUEST_LOG`, read once per isolate (a Worker's variables do not change while it lives).
fn request_log_mode(env: &Env) -> RequestLogMode {
    static MODE: std::sync::OnceLock<RequestLogMode> = std::sync::OnceLock::new();
    *MODE.get_or_init(|| {
        let value = env.var(REQUEST_LOG_VAR).map(|v| v.to_string()).unwrap_or_default();
        RequestLogMode::parse(&value).unwrap_or_else(|| {
            worker::console_warn!("{REQUEST_LOG_VAR}={value:?} is not all, errors or off: every request is logged");
            RequestLogMode::All
        })
    })
}

async fn serve(
    route: std::result::Result<Route, Problem>,
    method: &str,
    path: &str,
    req: Request,
    env: &Env,
) -> Result<Response> {
    // Every request but the health check counts against its client address's budget.
    if path != "/healthz" {
        let ip = req.headers().get("cf-connecting-ip").ok().flatten();
        if let Err(p) = rate_limit::by_ip(env, ip.as_deref()).await {
            return http::problem(&p);
        }
    }
    let route = match route {
        Ok(r) => r,
        Err(p) => {
            // Say nothing about a protected path to a caller without a valid token.
            if !is_public(path) {
                if let Err(unauth) = auth::authenticate(&req, env) {
                    return http::problem(&unauth);
                }
            }
            return http::problem(&p);
        }
    };
    let credential = match auth::authorize(&req, env, need(&route)) {
        Ok(c) => c,
        Err(p) => return http::problem(&p),
    };
    if let Some(cred) = credential {
        if let Err(p) = rate_limit::by_token(env, cred).await {
            return http::problem(&p);
        }
    }
    match handlers::handle(route, req, env).await {
        Ok(r) => Ok(r),
        Err(fault) => {
            worker::console_error!("{method} {path}: {fault}");
            http::problem(&from_fault(&fault))
        }
    }
}
