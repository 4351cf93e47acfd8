//! The one trait a channel implements: build the calls for a set of listing updates, read each
//! answer into per-listing outcomes. A new channel is one module implementing it.

use super::http::{HttpRequest, HttpResponse};
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::token_bucket::TokenBucket;
use super::update::ListingUpdate;
use crate::catalog::model::ChannelKind;
use crate::time::Millis;

/// One HTTP call and the listing updates it carries (in the order the request names them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushCall {
    pub request: HttpRequest,
    pub updates: Vec<ListingUpdate>,
}

/// What [`ChannelAdapter::build`] made of a set of updates: the calls to perform, and the
/// updates it refused outright (never sent; each with its outcome).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Built {
    pub calls: Vec<PushCall>,
    pub refused: Vec<ListingResult>,
}

/// A channel's push protocol. Implementations are plain data (credentials and settings the shell
/// loaded); both methods are pure.
///
/// Contract: every update passed to `build` ends up in exactly one call or in `refused`; no call
/// carries more than `batch_limit()` updates; `interpret` returns exactly one outcome per update
/// of the call, in the call's order.
pub trait ChannelAdapter {
    fn kind(&self) -> ChannelKind;

    /// The most listing updates one call may carry (the platform's batch limit).
    fn batch_limit(&self) -> usize;

    /// The calls that push `updates`. `now` is only for what a platform wants stamped on the
    /// request (dates in headers or documents).
    fn build(&self, updates: &[ListingUpdate], now: Millis) -> Built;

    /// Reads the platform's answer to `call`. `now` resolves `Retry-After` dates.
    fn interpret(&self, call: &PushCall, response: &HttpResponse, now: Millis) -> Vec<ListingResult>;

    /// The outcomes when `call` got no answer (timeout, connection reset): retry with back-off.
    /// The pushes are absolute quantities, so a repeat of a call that did land is harmless.
    fn no_response(&self, call: &PushCall, reason: &str) -> Vec<ListingResult> {
        for_all(call, PushResult::backoff(format!("no response: {reason}")))
    }

    /// Platforms with compare-and-set: after [`PushResult::Stale`], the request that reads what
    /// the listing shows now. `None` (the default) for platforms without it.
    fn reread(&self, _update: &ListingUpdate) -> Option<HttpRequest> {
        None
    }

    /// Reads the answer to [`ChannelAdapter::reread`]: the quantity the listing shows, or why it
    /// could not be read (`Backoff`: worth reading again; anything else: give up for now).
    fn read_current(&self, response: &HttpResponse, now: Millis) -> Result<i64, PushResult> {
        let _ = (response, now);
        Err(PushResult::permanent(FailureKind::Rejected, "this platform has no compare-and-set"))
    }

    /// The platform's request rate per account, when calls must be paced: a full bucket at
    /// `now` (the shell keeps one per account and waits for it before every call).
    fn rate_limit(&self, _now: Millis) -> Option<TokenBucket> {
        None
    }
}

/// The outcome of `update` when it is `outcome`.
pub fn result_of(update: &ListingUpdate, outcome: PushResult) -> ListingResult {
    ListingResult { key: update.key.clone(), version: update.version, quantity: update.quantity, outcome }
}

/// The same outcome for every update of the call.
pub fn for_all(call: &PushCall, outcome: PushResult) -> Vec<ListingResult> {
    call.updates.iter().map(|u| result_of(u, outcome.clone())).collect()
}

/// Splits updates into chunks of at most `limit` (at least 1), keeping their order.
pub fn chunks(updates: &[ListingUpdate], limit: usize) -> impl Iterator<Item = &[ListingUpdate]> {
    updates.chunks(limit.max(1))
}

/// Refuses an update whose identity belongs to another platform.
pub(crate) fn wrong_kind(update: &ListingUpdate, expected: ChannelKind) -> ListingResult {
    result_of(
        update,
        PushResult::permanent(
            FailureKind::Validation,
            format!(
                "listing {} is a {} listing, not a {} one",
                update.key,
                update.external.kind().as_str(),
                expected.as_str()
            ),
        ),
    )
}

/// The outcomes every platform shares, by status alone: 429 → `RetryAfter` when the answer
/// says when (else `Backoff`), 408 and 5xx → `Backoff`, 401 and 403 → `Permanent(Credentials)`.
/// `None` for everything else (the adapter reads those).
pub(crate) fn by_status(response: &HttpResponse, now: Millis) -> Option<PushResult> {
    match response.status {
        429 => Some(match response.retry_after(now) {
            Some(s) => PushResult::RetryAfter(s),
            None => PushResult::backoff("429 Too Many Requests without Retry-After"),
        }),
        408 => Some(PushResult::backoff("408 Request Timeout")),
        500..=599 => Some(PushResult::backoff(format!("HTTP {}", response.status))),
        401 | 403 => Some(PushResult::permanent(
            FailureKind::Credentials,
            format!("HTTP {}: {}", response.status, snippet(&response.body)),
        )),
        _ => None,
    }
}

/// The start of a body, for error messages.
pub(crate) fn snippet(body: &str) -> String {
    const MAX: usize = 300;
    let t = body.trim();
    match t.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_owned(),
    }
}

/// A permanent failure for an unexpected 4xx: 400/413/415/422 are content problems, 404 an
/// unknown resource, the rest final refusals.
pub(crate) fn client_error(response: &HttpResponse, message: String) -> PushResult {
    let kind = match response.status {
        404 | 410 => FailureKind::UnknownListing,
        400 | 413 | 415 | 422 => FailureKind::Validation,
        _ => FailureKind::Rejected,
    };
    PushResult::permanent(kind, format!("HTTP {}: {message}", response.status))
}
