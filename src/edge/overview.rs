//! `GET /v1/overview`: the counts of one D1 batch (`store::overview`), answered as
//! `api::overview` makes them.

use worker::{Env, Response};

use crate::api::overview::overview;
use crate::fault::Fault;

use super::clock::now;
use super::{http, store};

pub async fn serve(env: &Env) -> Result<Response, Fault> {
    let t = now();
    let rows = store::overview::read(&store::db(env)?, t).await?;
    Ok(http::json(200, &overview(&rows, t))?)
}
