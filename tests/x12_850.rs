//! Wholesale purchase orders in: X12 850 read (envelope, control numbers, counts), the 855
//! acknowledgment and the 997 rejection written, against a golden interchange
//! (tests/fixtures/edi/po_850_acme.x12: segments wrapped one per line, as many partners send).

use std::collections::BTreeMap;

use stockedge::api::order_call::SkuLine;
use stockedge::inbound::apply::{Effect, SoldLine};
use stockedge::inbound::po850::purchase_order;
use stockedge::inbound::purchase_orders::{acknowledge, inbound_partners, sale_event, Presented};
use stockedge::inbound::x12_ack::{acknowledgment, answer_gs03, functional_ack, Ack, AckCode, Acknowledged, Control};
use stockedge::inbound::x12_read::{read, ReadError};
use stockedge::inbound::x12_reject::{GroupCode, SetCode};
use stockedge::stock::{Effect as LedgerEffect, Location, OrderKey, Sku, Token};
use stockedge::sync::x12::{Envelope, Usage};
use stockedge::time::Millis;

const PO: &str = include_str!("fixtures/edi/po_850_acme.x12");
/// 2026-12-06T11:45:00Z
const NOW: Millis = Millis(1_796_557_500_000);

fn ours() -> Envelope {
    Envelope {
        sender_qualifier: "ZZ".into(),
        sender_id: "STOCKEDGE".into(),
        receiver_qualifier: "ZZ".into(),
        receiver_id: "ACMEBUY".into(),
        application_sender: "STOCKEDGE".into(),
        application_receiver: "ACMEBUY".into(),
        usage: Usage::Test,
    }
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("sku")
}

fn sold(line_id: &str, s: &str, qty: i64) -> SoldLine {
    SoldLine { sku: sku(s), qty, location: Location::main(), line_id: Token::parse(line_id).expect("token") }
}

fn desk(s: &str, oversold: i64) -> (Sku, SkuLine) {
    (sku(s), SkuLine { sku: sku(s), effect: LedgerEffect::Applied, available: 0, oversold, version: 7 })
}

fn rejected(text: &str) -> stockedge::inbound::x12_read::Rejected {
    match read(text) {
        Err(ReadError::Rejected(r)) => *r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn the_golden_850_reads_into_one_purchase_order() {
    let x = read(PO).expect("envelope");
    assert_eq!((x.header.sender_id.as_str(), x.header.control), ("ACMEBUY", 905));
    assert_eq!((x.group.functional_id.as_str(), x.group.control), ("PO", 17));
    assert_eq!(x.sets.len(), 1);
    let po = purchase_order(&x.sets[0]).expect("850");
    assert_eq!((po.number.as_str(), po.date.as_str()), ("PO-4471", "20261206"));
    let lines: Vec<_> =
        po.lines.iter().map(|l| (l.line_id.as_str(), l.qty, l.item_code.as_deref(), l.vendor_sku.as_deref())).collect();
    assert_eq!(
        lines,
        vec![
            ("1", 5, Some("ACME-778"), Some("BOLT-M8")),
            ("2", 3, None, Some("NUT-M8")),
            ("3", 1, Some("ACME-999"), None)
        ]
    );
    let e = sale_event(&po, "ACME", "acme", NOW);
    assert_eq!(e.order_id.as_deref(), Some("PO-4471"));
    let keys: Vec<_> = e.lines.iter().map(|l| l.identity.lookup_keys()).collect();
    assert_eq!(format!("{:?}", keys[0][0]), "Identity(\"wholesale:ACME|item:ACME-778\")");
    assert_eq!(format!("{:?}", keys[1][0]), "Identity(\"wholesale:ACME|sku:NUT-M8\")");
}

#[test]
fn the_855_acknowledges_each_line_from_availability_at_the_sale() {
    let x = read(PO).expect("envelope");
    let po = purchase_order(&x.sets[0]).expect("850");
    let order = OrderKey { channel: Token::parse("acme").unwrap(), order_id: Token::parse("PO-4471").unwrap() };
    // Line 3 mapped to no listing; BOLT-M8 ended 2 oversold: 2 of line 1's 5 are uncovered.
    let effects = vec![Effect::Sell { order, lines: vec![sold("1", "BOLT-M8", 5), sold("2", "NUT-M8", 3)] }];
    let desk: BTreeMap<_, _> = [desk("BOLT-M8", 2), desk("NUT-M8", 0)].into_iter().collect();
    let acks = acknowledge(&po, &effects, &desk);
    let ack = |code, qty| Ack { code, qty };
    assert_eq!(
        acks,
        vec![
            vec![ack(AckCode::Accepted, 3), ack(AckCode::Backordered, 2)],
            vec![ack(AckCode::Accepted, 3)],
            vec![ack(AckCode::Rejected, 1)],
        ]
    );
    let text =
        acknowledgment(&ours(), Control { interchange: 12, group: 12 }, &[Acknowledged { order: &po, acks }], NOW)
            .expect("855");
    let golden = concat!(
        "ISA*00*          *00*          *ZZ*STOCKEDGE      *ZZ*ACMEBUY        *261206*1145*U*00401*000000012*0*T*>~",
        "GS*PR*STOCKEDGE*ACMEBUY*20261206*1145*12*X*004010~",
        "ST*855*0001~",
        "BAK*00*AC*PO-4471*20261206~",
        "PO1*1*5*EA*12.50**IN*ACME-778*VN*BOLT-M8~",
        "ACK*IA*3*EA~",
        "ACK*IB*2*EA~",
        "PO1*2*3*EA*2.10**VN*NUT-M8~",
        "ACK*IA*3*EA~",
        "PO1*3*1*EA*9.99**IN*ACME-999~",
        "ACK*IR*1*EA~",
        "CTT*3~",
        "SE*11*0001~",
        "GE*1*12~",
        "IEA*1*000000012~"
    );
    assert_eq!(text, golden);
}

#[test]
fn a_bundle_line_short_of_a_component_is_backordered_whole() {
    let x = read(PO).expect("envelope");
    let po = purchase_order(&x.sets[0]).expect("850");
    let order = OrderKey { channel: Token::parse("acme").unwrap(), order_id: Token::parse("PO-4471").unwrap() };
    let effects = vec![Effect::Sell {
        order,
        lines: vec![sold("1/BOLT-M8", "BOLT-M8", 5), sold("1/NUT-M8", "NUT-M8", 10), sold("2", "NUT-M8", 3)],
    }];
    // 4 NUT-M8 short: the last line (2) takes 3 of them, the bundle line 1 the last one.
    let desk: BTreeMap<_, _> = [desk("BOLT-M8", 0), desk("NUT-M8", 4)].into_iter().collect();
    let acks = acknowledge(&po, &effects, &desk);
    assert_eq!(acks[0], vec![Ack { code: AckCode::Backordered, qty: 5 }]);
    assert_eq!(acks[1], vec![Ack { code: AckCode::Backordered, qty: 3 }]);
}

#[test]
fn other_delimiters_and_unwrapped_segments_read_the_same() {
    let mut isa: Vec<char> = PO.lines().next().unwrap().chars().collect();
    for c in isa.iter_mut() {
        if *c == '*' {
            *c = '|';
        }
    }
    isa[104] = '^';
    isa[105] = '\n';
    let rest: String = PO.lines().skip(1).map(|l| l.trim_end_matches('~').replace('*', "|") + "\n").collect();
    let text: String = isa.into_iter().collect::<String>() + &rest;
    let x = read(&text).expect("envelope");
    assert_eq!(x.delimiters.element, '|');
    assert_eq!(purchase_order(&x.sets[0]).expect("850").lines.len(), 3);
}

#[test]
fn a_wrong_segment_count_is_a_997_rejecting_the_set() {
    let bad = PO.replace("SE*10*0001", "SE*9*0001");
    let r = rejected(&bad);
    assert_eq!(
        r.rejection.set.as_ref().map(|(s, c)| (s.control.as_str(), *c)),
        Some(("0001", SetCode::SegmentCountMismatch))
    );
    let text = functional_ack(&ours(), Control { interchange: 13, group: 13 }, &r.group, r.received, &r.rejection, NOW)
        .expect("997");
    let body: Vec<&str> = text.split('~').skip(2).collect();
    assert_eq!(
        body,
        vec![
            "ST*997*0001",
            "AK1*PO*17",
            "AK2*850*0001",
            "AK5*R*4",
            "AK9*R*1*1*0",
            "SE*6*0001",
            "GE*1*13",
            "IEA*1*000000013",
            ""
        ]
    );
}

#[test]
fn envelope_control_numbers_and_counts_are_checked() {
    let r = rejected(&PO.replace("GE*1*17", "GE*1*18"));
    assert_eq!(r.rejection.group, Some(GroupCode::ControlNumberMismatch));
    assert_eq!(rejected(&PO.replace("GE*1*17", "GE*2*17")).rejection.group, Some(GroupCode::SetCountMismatch));
    assert_eq!(
        rejected(&PO.replace("IEA*1*000000905", "IEA*1*000000906")).rejection.group,
        Some(GroupCode::InterchangeMismatch)
    );
    assert_eq!(
        rejected(&PO.replace("SE*10*0001", "SE*10*0002")).rejection.set.map(|(_, c)| c),
        Some(SetCode::ControlNumberMismatch)
    );
    assert_eq!(rejected(&PO.replace("IEA*1*000000905~\n", "")).rejection.group, Some(GroupCode::TrailerMissing));
    assert_eq!(rejected(&PO.replace("SE*10*0001~\n", "")).rejection.set.map(|(_, c)| c), Some(SetCode::TrailerMissing));
    assert!(matches!(read("hello"), Err(ReadError::Unreadable(_))));
    assert!(matches!(read(&PO[..90]), Err(ReadError::Unreadable(_))));
}

#[test]
fn bad_segments_are_named_with_their_element() {
    let x = read(&PO.replace("PO1*2*3*EA", "PO1*2*x3*EA")).expect("envelope");
    let r = purchase_order(&x.sets[0]).expect_err("bad quantity");
    let text = functional_ack(&ours(), Control { interchange: 1, group: 1 }, &x.group, 1, &r, NOW).expect("997");
    assert!(text.contains("AK3*PO1*7**8~AK4*2**6*x3~AK5*R*5~AK9*R*1*1*0~"), "{text}");

    let x = read(&PO.replace("CTT*3", "CTT*2")).expect("envelope");
    assert!(purchase_order(&x.sets[0]).expect_err("count").message.contains("CTT01"));
    let x = read(&PO.replace("BEG*00*SA*PO-4471**20261206", "BEG*00*SA***20261206")).expect("envelope");
    let r = purchase_order(&x.sets[0]).expect_err("no PO number");
    assert_eq!(r.segment.map(|s| (s.id.clone(), s.position)), Some(("BEG".to_owned(), 2)));
    let x = read(&PO.replace("ST*850", "ST*810")).expect("envelope");
    assert_eq!(purchase_order(&x.sets[0]).expect_err("not an 850").set.map(|(_, c)| c), Some(SetCode::NotSupported));
}

#[test]
fn partners_authenticate_with_basic_or_bearer_in_constant_time() {
    let settings = serde_json::json!({"partners": {
        "ACME": {"receiver_id": "ACMEBUY", "inbound_secret": "EDI_ACME"},
        "BOLT": {"receiver_id": "BOLTCO"}
    }});
    let partners = inbound_partners(settings.as_object().unwrap());
    assert_eq!(partners.len(), 1);
    assert_eq!((partners[0].secret.as_str(), partners[0].x12_id.as_str()), ("EDI_ACME", "ACMEBUY"));
    let basic = Presented::of("Basic YWNtZTpzM2NyZXQ=").expect("basic"); // acme:s3cret
    assert!(basic.matches("acme:s3cret"));
    assert!(!basic.matches("acme:other"));
    let bearer = Presented::of("Bearer tok-123").expect("bearer");
    assert!(bearer.matches("tok-123"));
    assert!(!bearer.matches("tok-1234"));
    assert!(!Presented::Bearer("acme:s3cret".into()).matches("acme:s3cret"), "a Basic secret needs Basic");
    assert_eq!(Presented::of("Digest x"), None);
}

#[test]
fn a_partners_gs02_is_made_writable_for_our_answer() {
    // Read with the partner's `|` as element separator, its GS02 may hold our `*`, `~` or `>`.
    assert_eq!(answer_gs03("AC*ME~BUY>", "ACMEBUY"), "ACMEBUY");
    assert_eq!(answer_gs03("ACMEBUYERSGROUPINTERNATIONAL", "ACMEBUY"), "ACMEBUYERSGROUP");
    // Fewer than GS03's 2 characters left: the authenticated partner's ISA06.
    assert_eq!(answer_gs03("*", "ACMEBUY  "), "ACMEBUY");
    assert_eq!(answer_gs03("", "ACMEBUY"), "ACMEBUY");
    // The answer's envelope is writable with it.
    let mut envelope = ours();
    envelope.application_receiver = answer_gs03("A*~", "ACMEBUY");
    let po = purchase_order(&read(PO).expect("reads").sets[0]).expect("850");
    let acks = vec![vec![Ack { code: AckCode::Accepted, qty: 1 }]; po.lines.len()];
    let answered = [Acknowledged { order: &po, acks }];
    let text = acknowledgment(&envelope, Control { interchange: 1, group: 1 }, &answered, NOW).expect("855");
    assert!(text.contains("*ACMEBUY*"), "{text}");
}
