//! One channel's share of a consumer batch, as a sans-IO state machine: which token or control
//! number it needs, which calls to make, what each answer means, and what follows — a refused
//! cached token renewed once, a lost compare-and-set re-read (boundedly) and pushed once more with
//! the quantity found. The shell performs each [`Step`] and feeds the answers back; nothing here
//! reads a clock (the time is passed in) or performs I/O.
//!
//! ```text
//! new ─▶ Token ─▶ Send(push) ─▶ Token(renew) ─▶ Send(push refused)  ─▶ Done
//!   └─▶ ControlNumber ─┘   └──▶ Send(re-read)×≤3 ─▶ Send(push with the read quantity) ─┘
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::adapter::{result_of, ChannelAdapter, PushCall};
use super::connection::{self, Access, ConnectionError};
use super::http::{HttpRequest, HttpResponse};
use super::oauth::{Bearer, TokenSource};
use super::push_result::{FailureKind, ListingResult, PushResult};
use super::token_bucket::TokenBucket;
use super::update::{ListingId, ListingUpdate};
use super::wholesale::WholesaleIdentity;
use crate::catalog::model::ChannelKind;
use crate::catalog::secret::SecretError;
use crate::channels::{platform, Push};
use crate::stock::Token;
use crate::time::Millis;

/// Reads of a listing's current quantity after a lost compare-and-set, within one batch. When
/// none answers, the push is left to a later delivery: it is never sent without its compare.
pub const REREAD_ATTEMPTS: u32 = 3;

/// The key an account's request-rate bucket is kept under: calls of the same kind and account
/// share it, whatever makes them (pushes, reconciliation's reads).
pub fn pacing_key(kind: ChannelKind, account: &str) -> String {
    format!("{}:{}", kind.as_str(), account)
}

/// A channel as the consumer loaded it: its record and the secret the record names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub channel: Token,
    pub kind: ChannelKind,
    pub account: String,
    pub settings: Map<String, Value>,
    pub secret: Result<String, SecretError>,
}

/// A platform call's answer, or why there was none (timeout, connection error).
pub type Answer = Result<HttpResponse, String>;

/// What the shell does next for this channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Get an access token from `source` — first forgetting `forget`, the cached token the
    /// platform refused — and pass it to [`ChannelPush::token`].
    Token { source: TokenSource, forget: Option<String> },
    /// Draw the channel's next interchange control number and pass it to
    /// [`ChannelPush::control_number`].
    ControlNumber,
    /// Perform `requests` against `base`, one after another, and pass the answers, in order, to
    /// [`ChannelPush::answered`].
    Send { base: String, requests: Vec<HttpRequest> },
    /// Nothing more: take [`ChannelPush::results`].
    Done,
}

/// Which push this is: a second one is never followed by a third within the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Round {
    First,
    /// After a refused cached token was renewed.
    Renewed,
    /// After a lost compare-and-set, with the re-read quantities.
    Reread,
}

/// A listing whose current quantity is being read, and the reads so far.
struct Reread {
    update: ListingUpdate,
    attempts: u32,
}

enum State {
    Token { source: TokenSource, forget: Option<String>, updates: Vec<ListingUpdate>, round: Round },
    ControlNumber { secret: Option<String> },
    Push { adapter: Box<dyn ChannelAdapter>, calls: Vec<PushCall>, round: Round },
    Reread { adapter: Box<dyn ChannelAdapter>, pending: Vec<Reread>, ready: Vec<ListingUpdate> },
    Done,
}

/// One channel's pushes for a batch. Contract: every update given to [`ChannelPush::new`] ends
/// with exactly one result; a refused cached token is renewed at most once; a lost
/// compare-and-set is pushed again at most once, and only with a quantity read from the platform.
pub struct ChannelPush {
    channel: Token,
    kind: ChannelKind,
    account: String,
    settings: Map<String, Value>,
    base: String,
    updates: Vec<ListingUpdate>,
    now: Millis,
    bearer: Option<(TokenSource, Bearer)>,
    state: State,
    results: BTreeMap<ListingId, ListingResult>,
}

impl ChannelPush {
    /// The pushes of `updates` (all of `channel`) at `now`.
    pub fn new(channel: &Channel, updates: Vec<ListingUpdate>, now: Millis) -> ChannelPush {
        let mut push = ChannelPush {
            channel: channel.channel.clone(),
            kind: channel.kind,
            account: channel.account.clone(),
            settings: channel.settings.clone(),
            base: connection::base_url(channel.kind, &channel.account, &channel.settings),
            updates,
            now,
            bearer: None,
            state: State::Done,
            results: BTreeMap::new(),
        };
        if push.updates.is_empty() {
            return push;
        }
        let secret = channel.secret.as_deref();
        match connection::access(channel.kind, secret, &channel.account, &channel.settings) {
            Err(e) => push.fail(&push.updates.clone(), refusal(&e)),
            Ok(Access::Token(source)) => {
                push.state = State::Token { source, forget: None, updates: push.updates.clone(), round: Round::First }
            }
            Ok(Access::Secret(secret)) if matches!(platform(channel.kind).push, Push::Edi) => {
                push.state = State::ControlNumber { secret }
            }
            Ok(Access::Secret(secret)) => push.start(secret, None, push.updates.clone(), Round::First),
        }
        push
    }

    /// The channel pushed to.
    pub fn channel(&self) -> &Token {
        &self.channel
    }

    /// What the shell does next.
    pub fn step(&self) -> Step {
        match &self.state {
            State::Token { source, forget, .. } => Step::Token { source: source.clone(), forget: forget.clone() },
            State::ControlNumber { .. } => Step::ControlNumber,
            State::Push { calls, .. } => {
                Step::Send { base: self.base.clone(), requests: calls.iter().map(|c| c.request.clone()).collect() }
            }
            State::Reread { adapter, pending, .. } => Step::Send {
                base: self.base.clone(),
                requests: pending.iter().filter_map(|r| adapter.reread(&r.update)).collect(),
            },
            State::Done => Step::Done,
        }
    }

    /// The account's request rate when the platform's calls must be paced: the key the shell
    /// keeps a bucket under, and a full bucket for a new key.
    pub fn pacing(&self) -> Option<(String, TokenBucket)> {
        let adapter = match &self.state {
            State::Push { adapter, .. } | State::Reread { adapter, .. } => adapter,
            _ => return None,
        };
        adapter.rate_limit(self.now).map(|bucket| (pacing_key(self.kind, &self.account), bucket))
    }

    /// The token [`Step::Token`] asked for, or the result of every update that needed it.
    pub fn token(&mut self, answer: Result<Bearer, PushResult>) {
        let State::Token { source, updates, round, .. } = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        match answer {
            Ok(bearer) => {
                self.bearer = Some((source, bearer.clone()));
                self.start(Some(bearer.token), None, updates, round);
            }
            Err(failed) => self.fail(&updates, failed),
        }
    }

    /// The control number [`Step::ControlNumber`] asked for, or why none could be drawn.
    pub fn control_number(&mut self, answer: Result<u32, PushResult>) {
        let State::ControlNumber { secret } = std::mem::replace(&mut self.state, State::Done) else { return };
        match answer {
            Ok(n) => self.start(secret, Some(n), self.updates.clone(), Round::First),
            Err(failed) => self.fail(&self.updates.clone(), failed),
        }
    }

    /// The answers to [`Step::Send`]'s requests, in order.
    pub fn answered(&mut self, answers: Vec<Answer>) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Push { adapter, calls, round } => {
                let mut now_results = Vec::new();
                for (call, answer) in calls.iter().zip(padded(answers)) {
                    now_results.extend(match answer {
                        Some(Ok(response)) => adapter.interpret(call, &response, self.now),
                        Some(Err(why)) => adapter.no_response(call, &why),
                        None => adapter.no_response(call, "the call was not made"),
                    });
                }
                self.after_push(adapter, now_results, round);
            }
            State::Reread { adapter, pending, ready } => self.after_reread(adapter, pending, ready, answers),
            other => self.state = other,
        }
    }

    /// One result per update, by listing.
    pub fn results(self) -> Vec<ListingResult> {
        self.results.into_values().collect()
    }

    /// Builds the adapter with `credential` and pushes `updates` (`round` says which push).
    fn start(&mut self, credential: Option<String>, control: Option<u32>, updates: Vec<ListingUpdate>, round: Round) {
        let adapter = match self.adapter(credential, control, &updates) {
            Ok(a) => a,
            Err(e) => return self.fail(&updates, refusal(&e)),
        };
        let built = adapter.build(&updates, self.now);
        self.record(built.refused);
        self.state =
            if built.calls.is_empty() { State::Done } else { State::Push { adapter, calls: built.calls, round } };
    }

    fn adapter(
        &self,
        credential: Option<String>,
        control: Option<u32>,
        updates: &[ListingUpdate],
    ) -> Result<Box<dyn ChannelAdapter>, ConnectionError> {
        let Some(interchange) = control else {
            return connection::adapter(self.kind, credential.as_deref(), &self.settings);
        };
        let mut partners: Vec<String> =
            updates.iter().filter_map(|u| WholesaleIdentity::of(&u.external).map(|w| w.partner_id)).collect();
        partners.sort();
        partners.dedup();
        Ok(Box::new(connection::wholesale(&self.settings, credential.as_deref(), &partners, interchange)))
    }

    /// After a push: renew a refused cached token (once), else re-read the listings whose
    /// compare-and-set was lost (once), else done.
    fn after_push(&mut self, adapter: Box<dyn ChannelAdapter>, results: Vec<ListingResult>, round: Round) {
        let refused: Vec<ListingUpdate> = self.updates_where(&results, is_refused_token);
        let stale: Vec<ListingUpdate> = self.updates_where(&results, |r| *r == PushResult::Stale);
        self.record(results);
        if let (false, Round::First, Some((source, bearer))) = (refused.is_empty(), round, &self.bearer) {
            if bearer.reused {
                let forget = Some(bearer.token.clone());
                self.state = State::Token { source: source.clone(), forget, updates: refused, round: Round::Renewed };
                return;
            }
        }
        let pending: Vec<Reread> = stale
            .into_iter()
            .filter(|u| round != Round::Reread && adapter.reread(u).is_some())
            .map(|update| Reread { update, attempts: 0 })
            .collect();
        if !pending.is_empty() {
            self.state = State::Reread { adapter, pending, ready: Vec::new() };
        }
    }

    /// After a round of re-reads: the read quantities are pushed once more; a read that failed
    /// transiently is tried again (up to [`REREAD_ATTEMPTS`]); any other failure, or the last
    /// attempt's, is the listing's result (its push waits for a later delivery).
    fn after_reread(
        &mut self,
        adapter: Box<dyn ChannelAdapter>,
        pending: Vec<Reread>,
        mut ready: Vec<ListingUpdate>,
        answers: Vec<Answer>,
    ) {
        let mut again = Vec::new();
        for (mut r, answer) in pending.into_iter().zip(padded(answers)) {
            r.attempts += 1;
            let read = match answer {
                Some(Ok(response)) => adapter.read_current(&response, self.now),
                Some(Err(why)) => Err(PushResult::backoff(format!("no response: {why}"))),
                None => Err(PushResult::backoff("the re-read was not made")),
            };
            match read {
                Ok(quantity) => ready.push(r.update.clone().expecting(Some(quantity))),
                Err(PushResult::Backoff(_)) if r.attempts < REREAD_ATTEMPTS => again.push(r),
                Err(failed) => self.record(vec![result_of(&r.update, unread(failed))]),
            }
        }
        if !again.is_empty() {
            self.state = State::Reread { adapter, pending: again, ready };
            return;
        }
        let built = adapter.build(&ready, self.now);
        self.record(built.refused);
        if !built.calls.is_empty() {
            self.state = State::Push { adapter, calls: built.calls, round: Round::Reread };
        }
    }

    fn updates_where(&self, results: &[ListingResult], pick: impl Fn(&PushResult) -> bool) -> Vec<ListingUpdate> {
        let keys: Vec<&ListingId> = results.iter().filter(|r| pick(&r.outcome)).map(|r| &r.key).collect();
        self.updates.iter().filter(|u| keys.contains(&&u.key)).cloned().collect()
    }

    fn fail(&mut self, updates: &[ListingUpdate], failed: PushResult) {
        self.record(updates.iter().map(|u| result_of(u, failed.clone())).collect());
        self.state = State::Done;
    }

    fn record(&mut self, results: Vec<ListingResult>) {
        for r in results {
            self.results.insert(r.key.clone(), r);
        }
    }
}

/// The answers in order, then `None` for every request that got none (the shell stopped early).
fn padded(answers: Vec<Answer>) -> impl Iterator<Item = Option<Answer>> {
    answers.into_iter().map(Some).chain(std::iter::repeat(None))
}

/// The platform refused the access token (401/403 or an auth error in the answer).
fn is_refused_token(r: &PushResult) -> bool {
    matches!(r, PushResult::Permanent(f) if f.kind == FailureKind::Credentials)
}

/// The result of every update of a channel that cannot be reached: a channel kind without a
/// push is rejected, anything else is its credentials.
fn refusal(e: &ConnectionError) -> PushResult {
    let kind = match e {
        ConnectionError::Unsupported(_) => FailureKind::Rejected,
        _ => FailureKind::Credentials,
    };
    PushResult::permanent(kind, e.to_string())
}

/// A lost compare-and-set whose current quantity could not be read: retried later as the read's
/// failure says (a throttle's wait, a back-off), or final when the listing is gone.
fn unread(failed: PushResult) -> PushResult {
    match failed {
        PushResult::Backoff(why) => {
            PushResult::backoff(format!("compare-and-set lost and the current quantity could not be read: {why}"))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::model::External;
    use crate::stock::{Op, Sku};
    use crate::sync::amazon::AmazonIdentity;
    use crate::sync::ebay::EbayIdentity;
    use crate::sync::shopify::ShopifyIdentity;
    use crate::sync::woocommerce::WoocommerceIdentity;

    fn update(kind: ChannelKind, sku: &str) -> ListingUpdate {
        let external: External = match kind.as_str() {
            "amazon" => {
                AmazonIdentity { seller_id: "S".into(), seller_sku: sku.into(), marketplace_ids: vec!["M".into()] }
                    .into()
            }
            "ebay" => EbayIdentity { sku: sku.into(), offer_id: None }.into(),
            "wholesale" => WholesaleIdentity { partner_id: "ACME".into(), item_code: None }.into(),
            "woocommerce" => WoocommerceIdentity { product_id: 1, variation_id: None }.into(),
            _ => ShopifyIdentity { inventory_item_id: 1, location_id: 2 }.into(),
        };
        ListingUpdate {
            key: ListingId { channel: Token::parse("ch").unwrap(), sku: Sku::parse(sku).unwrap() },
            external,
            version: 3,
            available: 5,
            quantity: 5,
            expected: Some(4),
            cause: Op::Sale,
            at: Millis(0),
            since: Millis(0),
        }
    }

    fn channel(kind: ChannelKind, secret: Result<&str, SecretError>) -> Channel {
        let mut settings = Map::new();
        settings.insert("base_url".into(), Value::from("https://platform"));
        Channel {
            channel: Token::parse("ch").unwrap(),
            kind,
            account: "acct".into(),
            settings,
            secret: secret.map(str::to_owned),
        }
    }

    const LWA: &str = r#"{"client_id":"a","client_secret":"b","refresh_token":"c"}"#;

    fn outcomes(push: ChannelPush) -> Vec<PushResult> {
        push.results().into_iter().map(|r| r.outcome).collect()
    }

    fn sends(push: &ChannelPush) -> usize {
        match push.step() {
            Step::Send { requests, .. } => requests.len(),
            other => panic!("expected a send, got {other:?}"),
        }
    }

    #[test]
    fn a_channel_without_usable_credentials_fails_every_update_permanently() {
        let missing = channel(ChannelKind::Shopify, Err(SecretError::Missing("SHOP".into())));
        let push = ChannelPush::new(
            &missing,
            vec![update(ChannelKind::Shopify, "A"), update(ChannelKind::Shopify, "B")],
            Millis(0),
        );
        assert_eq!(push.step(), Step::Done);
        let out = outcomes(push);
        assert_eq!(out.len(), 2);
        assert!(
            out.iter().all(|o| matches!(o, PushResult::Permanent(f) if f.kind == FailureKind::Credentials)),
            "{out:?}"
        );
        let bad_json = channel(ChannelKind::Amazon, Ok("not json"));
        assert_eq!(outcomes(ChannelPush::new(&bad_json, vec![update(ChannelKind::Amazon, "A")], Millis(0))).len(), 1);
    }

    #[test]
    fn nothing_to_push_is_done_at_once() {
        let push = ChannelPush::new(&channel(ChannelKind::Shopify, Ok("t")), Vec::new(), Millis(0));
        assert_eq!(push.step(), Step::Done);
        assert!(push.results().is_empty());
    }

    #[test]
    fn amazon_asks_for_a_token_then_pushes_paced_with_it() {
        let mut push =
            ChannelPush::new(&channel(ChannelKind::Amazon, Ok(LWA)), vec![update(ChannelKind::Amazon, "A")], Millis(0));
        let Step::Token { source, forget: None } = push.step() else { panic!("{:?}", push.step()) };
        assert_eq!((source.issuer, source.url.as_str()), ("LWA", "https://api.amazon.com"));
        assert_eq!(
            (source.key.starts_with("lwa:"), source.key.len()),
            (true, 4 + 32),
            "a digest, not the refresh token"
        );
        push.token(Ok(Bearer { token: "Atza|1".into(), reused: false }));
        let Step::Send { requests, .. } = push.step() else { panic!() };
        assert_eq!(requests[0].header_value("x-amz-access-token"), Some("Atza|1"));
        assert!(push.pacing().is_some_and(|(key, _)| key == "amazon:acct"), "SP-API calls are paced per seller");
    }

    #[test]
    fn a_token_endpoint_failure_is_every_update_s_result() {
        let mut push =
            ChannelPush::new(&channel(ChannelKind::Amazon, Ok(LWA)), vec![update(ChannelKind::Amazon, "A")], Millis(0));
        push.token(Err(PushResult::backoff("LWA token endpoint: timeout")));
        assert_eq!(push.step(), Step::Done);
        assert_eq!(outcomes(push), [PushResult::backoff("LWA token endpoint: timeout")]);
    }

    #[test]
    fn a_refused_cached_token_is_renewed_once_and_the_refused_pushed_again() {
        let mut push =
            ChannelPush::new(&channel(ChannelKind::Amazon, Ok(LWA)), vec![update(ChannelKind::Amazon, "A")], Millis(0));
        push.token(Ok(Bearer { token: "old".into(), reused: true }));
        assert_eq!(sends(&push), 1);
        push.answered(vec![Ok(HttpResponse::new(403, r#"{"errors":[{"code":"Unauthorized"}]}"#))]);
        let Step::Token { forget, .. } = push.step() else { panic!("{:?}", push.step()) };
        assert_eq!(forget.as_deref(), Some("old"), "the refused token is forgotten first");
        push.token(Ok(Bearer { token: "new".into(), reused: false }));
        assert_eq!(sends(&push), 1);
        push.answered(vec![Ok(HttpResponse::new(403, "{}"))]);
        assert_eq!(push.step(), Step::Done, "renewed once, not twice");
        assert!(matches!(&outcomes(push)[..], [PushResult::Permanent(f)] if f.kind == FailureKind::Credentials));
    }

    #[test]
    fn a_refused_new_token_is_final() {
        let mut push =
            ChannelPush::new(&channel(ChannelKind::Amazon, Ok(LWA)), vec![update(ChannelKind::Amazon, "A")], Millis(0));
        push.token(Ok(Bearer { token: "fresh".into(), reused: false }));
        push.answered(vec![Ok(HttpResponse::new(403, "{}"))]);
        assert_eq!(push.step(), Step::Done);
    }

    #[test]
    fn an_ebay_bare_token_is_used_as_is() {
        let push = ChannelPush::new(
            &channel(ChannelKind::Ebay, Ok("v^1.1#token")),
            vec![update(ChannelKind::Ebay, "A")],
            Millis(0),
        );
        let Step::Send { requests, .. } = push.step() else { panic!("{:?}", push.step()) };
        assert_eq!(requests[0].header_value("authorization"), Some("Bearer v^1.1#token"));
    }

    #[test]
    fn wholesale_draws_a_control_number_and_may_name_no_secret() {
        let mut push = ChannelPush::new(
            &channel(ChannelKind::Wholesale, Err(SecretError::Unnamed)),
            vec![update(ChannelKind::Wholesale, "A")],
            Millis(0),
        );
        assert_eq!(push.step(), Step::ControlNumber);
        push.control_number(Ok(42));
        let Step::Send { requests, .. } = push.step() else { panic!() };
        assert!(requests[0].body.contains("*000000042*"), "{}", requests[0].body);
        let mut failed = ChannelPush::new(
            &channel(ChannelKind::Wholesale, Err(SecretError::Unnamed)),
            vec![update(ChannelKind::Wholesale, "A")],
            Millis(0),
        );
        failed.control_number(Err(PushResult::backoff("control number: D1 unavailable")));
        assert!(matches!(&outcomes(failed)[..], [PushResult::Backoff(_)]));
        let missing = channel(ChannelKind::Wholesale, Err(SecretError::Missing("EDI".into())));
        assert_eq!(ChannelPush::new(&missing, vec![update(ChannelKind::Wholesale, "A")], Millis(0)).step(), Step::Done);
    }

    #[test]
    fn no_answer_is_a_back_off_and_platforms_without_compare_are_not_reread() {
        let mut push = ChannelPush::new(
            &channel(ChannelKind::Woocommerce, Ok("ck:cs")),
            vec![update(ChannelKind::Woocommerce, "A")],
            Millis(0),
        );
        push.answered(vec![Err("no answer within 10 s".into())]);
        assert_eq!(push.step(), Step::Done);
        assert!(matches!(&outcomes(push)[..], [PushResult::Backoff(why)] if why.contains("no answer")));
    }
}
