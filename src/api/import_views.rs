//! What `POST /v1/imports`, `GET /v1/imports/{id}` and `GET /v1/exports` answer, without HTTP:
//! the bodies of an import and of a job's status, the report page query, and the export rows
//! from the ledgers' states.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::views::SkuView;
use super::{FieldError, Kind, Problem};
use crate::db::imports::JobRow;
use crate::db::StoreResult;
use crate::import::limits::{DEFAULT_REPORT_PAGE_ROWS, MAX_REPORT_PAGE_ROWS};
use crate::import::{BackorderPolicy, Basis, ExportRow, Format, Plan, RowReport, Summary};
use crate::stock::{Location, Sku};
use crate::time::Millis;

/// The body of an import applied within its request: the plan without its batches, with what
/// the file was read as.
pub fn import_body(
    plan: &Plan,
    import_id: &str,
    (format, basis): (Format, Basis),
    dry_run: bool,
    mappings: Value,
) -> Value {
    let mut body = serde_json::to_value(plan).unwrap_or(Value::Null);
    if let Some(m) = body.as_object_mut() {
        m.insert("import_id".into(), json!(import_id));
        m.insert("format".into(), json!(format.as_str()));
        m.insert("basis".into(), serde_json::to_value(basis).unwrap_or(Value::Null));
        m.insert("dry_run".into(), json!(dry_run));
        m.insert("location_mappings".into(), mappings);
        m.remove("batches");
    }
    body
}

/// A page of a job's report: rows with `line > after`, at most `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportPage {
    pub after: u64,
    pub limit: usize,
}

/// Reads `?after=&limit=` of `GET /v1/imports/{id}`; every faulty parameter is named.
pub fn report_page(query: &[(String, String)]) -> Result<ReportPage, Problem> {
    let mut errors = Vec::new();
    let mut page = ReportPage { after: 0, limit: DEFAULT_REPORT_PAGE_ROWS };
    for (k, v) in query {
        match k.as_str() {
            "after" => match v.parse::<u64>() {
                Ok(n) => page.after = n,
                Err(_) => {
                    errors.push(FieldError::new("after", "must be a line number, 0 or more (the previous page's next)"))
                }
            },
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=MAX_REPORT_PAGE_ROWS).contains(&n) => page.limit = n,
                _ => errors
                    .push(FieldError::new("limit", format!("must be a whole number from 1 to {MAX_REPORT_PAGE_ROWS}"))),
            },
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(page)
    } else {
        Err(Problem::invalid(errors))
    }
}

/// The answer to a job id that names no job.
pub fn no_job(id: &str) -> Problem {
    Problem::new(Kind::NotFound, format!("no import job {id}")).with("resource", "import")
}

/// A job's status with its chunks' summaries added up; with `report` (its rows of finished
/// chunks with `line > after`, in any order, and the page asked for) the page in line order and
/// `next` when more follow.
pub fn job_status(
    job: &JobRow,
    summaries: &[Summary],
    report: Option<(Vec<RowReport>, ReportPage)>,
) -> StoreResult<Value> {
    let summary = summaries.iter().fold(Summary::default(), crate::import::jobs::add);
    let mut body = json!({
        "import_id": job.id,
        "status": job.status,
        "format": job.format,
        "basis": job.basis()?,
        "mode": job.mode()?,
        "dry_run": job.dry_run(),
        "progress": {"chunks": job.chunks_total, "chunks_done": job.chunks_done, "rows": job.rows_total, "skus": job.skus_total},
        "summary": summary,
        "location_mappings": job.location_mappings()?,
        "created_at": Millis(job.created_at).to_rfc3339(),
        "finished_at": job.finished_at.map(|t| Millis(t).to_rfc3339()),
        "poll": format!("/v1/imports/{}", job.id),
    });
    if let Some((mut rows, page)) = report {
        rows.sort_by_key(|r| r.line);
        let more = rows.len() > page.limit;
        rows.truncate(page.limit);
        if let (true, Some(last)) = (more, rows.last()) {
            body["next"] = json!(last.line);
        }
        body["rows"] = serde_json::to_value(&rows).unwrap_or(Value::Null);
    }
    Ok(body)
}

/// The quantities of each location of a SKU's state: (on hand, on hand − reserved − committed).
pub fn quantities(state: Option<SkuView>) -> BTreeMap<String, (i64, i64)> {
    state
        .map(|v| {
            v.locations.into_iter().map(|l| (l.location, (l.on_hand, l.on_hand - l.reserved - l.committed))).collect()
        })
        .unwrap_or_default()
}

/// The export rows of `products` (SKU, tracked) from their ledgers' states (`None`: the ledger
/// answered no state): a row per location, or one zero row at `main` for a SKU with none.
pub fn export_rows(products: &[(Sku, bool)], states: Vec<Option<SkuView>>) -> Vec<ExportRow> {
    let mut rows = Vec::new();
    for ((sku, tracked), state) in products.iter().zip(states) {
        let backorder = if state.as_ref().is_some_and(|v| v.backorder_limit > 0) {
            BackorderPolicy::Allow
        } else {
            BackorderPolicy::Deny
        };
        let row = |location, on_hand, available| ExportRow {
            sku: sku.clone(),
            location,
            on_hand,
            available,
            backorder,
            tracked: *tracked,
        };
        let locations = state.map(|v| v.locations).unwrap_or_default();
        if locations.is_empty() {
            rows.push(row(Location::main(), 0, 0));
        }
        for l in locations {
            rows.push(row(Location::parse(&l.location).unwrap_or_default(), l.on_hand, l.available));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::views::LocationView;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn view(backorder_limit: i64, locations: Vec<LocationView>) -> SkuView {
        SkuView {
            sku: "A".into(),
            on_hand: 0,
            reserved: 0,
            committed: 0,
            available: 0,
            backordered: 0,
            oversold: 0,
            backorder_limit,
            version: 1,
            locations,
        }
    }

    fn loc(name: &str, on_hand: i64, reserved: i64) -> LocationView {
        LocationView { location: name.into(), on_hand, reserved, committed: 1, available: on_hand - reserved - 1 }
    }

    #[test]
    fn the_report_page_query_has_defaults_and_bounds() {
        assert_eq!(report_page(&[]), Ok(ReportPage { after: 0, limit: DEFAULT_REPORT_PAGE_ROWS }));
        assert_eq!(report_page(&pairs(&[("after", "12"), ("limit", "5")])), Ok(ReportPage { after: 12, limit: 5 }));
        let p = report_page(&pairs(&[("after", "-1"), ("limit", "5001")])).expect_err("invalid");
        let errors = p.extra.get("errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().filter_map(|e| e.get("field").and_then(|f| f.as_str())).collect();
        assert_eq!(fields, ["after", "limit"]);
    }

    #[test]
    fn export_rows_give_a_sku_without_levels_one_zero_row() {
        let a = Sku::parse("A").expect("sku");
        let b = Sku::parse("B").expect("sku");
        let rows = export_rows(
            &[(a, true), (b, false)],
            vec![None, Some(view(2, vec![loc("main", 5, 1), loc("back", 3, 0)]))],
        );
        let got: Vec<(String, String, i64, i64, BackorderPolicy, bool)> = rows
            .iter()
            .map(|r| (r.sku.to_string(), r.location.to_string(), r.on_hand, r.available, r.backorder, r.tracked))
            .collect();
        assert_eq!(
            got,
            vec![
                ("A".into(), "main".into(), 0, 0, BackorderPolicy::Deny, true),
                ("B".into(), "main".into(), 5, 3, BackorderPolicy::Allow, false),
                ("B".into(), "back".into(), 3, 2, BackorderPolicy::Allow, false),
            ]
        );
        let q = quantities(Some(view(0, vec![loc("main", 5, 1)])));
        assert_eq!(q["main"], (5, 3));
        assert!(quantities(None).is_empty());
    }
}
