//! `/v1/import-mappings`: saved column mappings (validation and meaning in
//! `api::import_mappings` and `import::mapping`); this reads and writes D1.

use worker::{Env, Response};

use crate::api::import_mappings::{mapping_body, MappingRoute, MappingView};
use crate::api::{Kind, Problem};
use crate::fault::Fault;
use crate::import::{Delimiter, Mapping, Mode};
use crate::stock::Token;

use super::clock::now;
use super::handlers::Write;
use super::key_registry;
use super::{http, store};

fn missing(name: &Token) -> Problem {
    Problem::new(Kind::NotFound, format!("no import mapping named {:?}", name.as_str()))
}

/// Answers one route under `/v1/import-mappings`.
pub async fn handle(route: MappingRoute, w: &Write, env: &Env) -> Result<Response, Fault> {
    let db = store::db(env)?;
    match route {
        MappingRoute::List => {
            let items = store::import_mappings::list(&db).await?;
            Ok(http::json(200, &serde_json::json!({ "items": items }))?)
        }
        MappingRoute::Get(name) => match store::import_mappings::get(&db, name.as_str()).await? {
            Some(view) => Ok(http::json(200, &view)?),
            None => Ok(http::problem(&missing(&name))?),
        },
        MappingRoute::Put(name) => {
            let mapping = match w.validated(mapping_body(&w.bytes)) {
                Ok(m) => m,
                Err(p) => return Ok(http::problem(&p)?),
            };
            key_registry::keeping(env, w.idem.as_ref(), async {
                let at = now();
                store::import_mappings::put(&db, name.as_str(), &mapping, at).await?;
                // The row as written: no second read.
                let view = MappingView { name: name.as_str().to_owned(), mapping, updated_at: at };
                Ok(http::json(200, &view)?)
            })
            .await
        }
        MappingRoute::Delete(name) => {
            if let Err(p) = w.validated(Ok(())) {
                return Ok(http::problem(&p)?);
            }
            key_registry::keeping(env, w.idem.as_ref(), async {
                if store::import_mappings::delete(&db, name.as_str()).await? {
                    Ok(http::json(200, &serde_json::json!({ "name": name.as_str(), "deleted": true }))?)
                } else {
                    Ok(http::problem(&missing(&name))?)
                }
            })
            .await
        }
    }
}

/// The mapping an import names, or the `404` to answer with.
pub async fn named(env: &Env, name: &Token) -> Result<Result<Mapping, Problem>, Fault> {
    let db = store::db(env)?;
    Ok(match store::import_mappings::get(&db, name.as_str()).await? {
        Some(view) => Ok(view.mapping),
        None => Err(missing(name).with("field", "mapping")),
    })
}

/// What `POST /v1/imports` reads its file with when the query names `mapping=`: the mapping,
/// the separator (named, or read from `file`'s header line) and the mode (`mode=` if given,
/// else the mapping's); without `mapping=`, `(None, mode)`.
pub async fn for_import(
    env: &Env,
    query: &[(String, String)],
    file: &[u8],
    mode: Mode,
) -> Result<Result<(Option<(Mapping, Delimiter)>, Mode), Problem>, Fault> {
    let (name, mode_given) = match crate::api::import_mappings::import_query(query) {
        Ok(q) => q,
        Err(p) => return Ok(Err(p)),
    };
    let Some(name) = name else { return Ok(Ok((None, mode))) };
    Ok(named(env, &name).await?.map(|m| {
        let mode = m.mode_for(mode_given.then_some(mode));
        let delimiter = m.delimiter_for(file);
        (Some((m, delimiter)), mode)
    }))
}
