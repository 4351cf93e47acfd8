use super::*;
use crate::api::idempotency::start;

const FP: &str = "fp-1";

fn answered(parts: u32) -> Recorded<Head> {
    Recorded {
        fingerprint: FP.into(),
        at: Millis(1),
        reply: Some(Head { status: 200, content_type: "application/json".into(), parts }),
    }
}

fn claimed() -> Recorded<Head> {
    Recorded { fingerprint: FP.into(), at: Millis(1), reply: None }
}

fn answer(body: &str) -> Answer {
    Answer { status: 202, content_type: "application/json".into(), body: body.into() }
}

#[test]
fn parts_cut_at_character_boundaries_and_join_back() {
    let body = "é".repeat(PART_BYTES / 2 + 3);
    let pieces = parts(&body);
    assert_eq!(pieces.len(), 2);
    assert!(pieces.iter().all(|p| p.len() <= PART_BYTES));
    assert_eq!(pieces.concat(), body);
    assert!(parts("").is_empty());
}

#[test]
fn keeping_an_answer_writes_its_parts_then_the_head_then_ends_the_lease() {
    let plan = keep(Some(claimed()), FP, Some(answer("{\"ok\":true}"))).expect("plan");
    let sqls: Vec<&str> = plan.iter().map(|s| s.sql).collect();
    assert_eq!(sqls[0], "DELETE FROM answer_part");
    assert_eq!(sqls[1], "INSERT INTO answer_part (n, text) VALUES (?, ?)");
    assert_eq!(sqls[3], "DELETE FROM claim WHERE k = 'lease'");
    let SqlValue::Text(body) = &plan[2].args[1] else { panic!("claim body") };
    let rec: Recorded<Head> = serde_json::from_str(body).expect("claim JSON");
    assert_eq!(rec.reply, Some(Head { status: 202, content_type: "application/json".into(), parts: 1 }));
    assert_eq!(rec.fingerprint, FP);
}

#[test]
fn nothing_is_kept_for_another_request_or_twice() {
    assert!(keep(None, FP, Some(answer("x"))).expect("plan").is_empty());
    assert!(keep(Some(claimed()), "other", Some(answer("x"))).expect("plan").is_empty());
    assert!(keep(Some(answered(1)), FP, Some(answer("x"))).expect("plan").is_empty(), "the first answer stays");
    let retry = keep(Some(claimed()), FP, None).expect("plan");
    assert_eq!(retry.iter().map(|s| s.sql).collect::<Vec<_>>(), vec!["DELETE FROM claim WHERE k = 'lease'"]);
}

#[test]
fn begin_takes_the_lease_replays_or_refuses() {
    let fresh = begin(start::<Head>(None, FP, None, Millis(50), 10), Millis(50));
    let Beginning::Go(lease) = fresh else { panic!("{fresh:?}") };
    assert_eq!(lease.args, vec![SqlValue::from("lease"), SqlValue::from("50")]);
    let rec = claimed();
    assert_eq!(
        begin(start(Some(&rec), FP, Some(Millis(45)), Millis(50), 10), Millis(50)),
        Beginning::Answer(Begun::Busy)
    );
    assert_eq!(begin(start(Some(&rec), "other", None, Millis(50), 10), Millis(50)), Beginning::Answer(Begun::Reused));
    let done = answered(2);
    let Beginning::Replay(head) = begin(start(Some(&done), FP, None, Millis(50), 10), Millis(50)) else {
        panic!("a kept answer replays")
    };
    let parts = vec![PartRow { text: "ab".into() }, PartRow { text: "cd".into() }];
    let Ok(Begun::Replay(a)) = replay(head.clone(), parts) else { panic!("replay") };
    assert_eq!((a.status, a.body.as_str()), (200, "abcd"));
    assert!(replay(head, vec![PartRow { text: "ab".into() }]).is_err(), "a missing part is a corrupt store");
}

#[test]
fn stored_rows_that_do_not_decode_are_corrupt() {
    assert!(recorded(&[BodyRow { body: "{".into() }]).is_err());
    assert!(lease(&[BodyRow { body: "soon".into() }]).is_err());
    assert_eq!(lease(&[BodyRow { body: "42".into() }]), Ok(Some(Millis(42))));
    assert_eq!(recorded(&[]).map(|r| r.is_none()), Ok(true));
}

#[test]
fn calls_and_replies_keep_their_wire_names() {
    let call = KeyCall::Begin { fingerprint: "f".into() };
    assert_eq!(serde_json::to_string(&call).expect("json"), r#"{"begin":{"fingerprint":"f"}}"#);
    assert_eq!(serde_json::to_string(&KeyReply::Claim(ClaimVerdict::Reused)).expect("json"), r#"{"claim":"reused"}"#);
}
