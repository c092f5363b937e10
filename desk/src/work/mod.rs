//! The case-working pages (queue, case, search, audit, …): owned by the work
//! pages' author (issue 16). Until they land, `/` is a placeholder "Queue"
//! page that says who is signed in.
//!
//! Every route here sits behind `security::guard`: a handler gets the
//! signed-in account with the `CurrentHandler` extractor, renders with a
//! template extending `base.html` (a `layout: Layout` field, built with
//! `Layout::signed_in`), and every form carries `layout.csrf` in a hidden
//! `csrf` field (the guard refuses a POST without it).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use crate::AppState;
use crate::pages::{Layout, Section, render};
use crate::security::CurrentHandler;

/// The work routes, merged into the desk's router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(queue))
}

#[derive(Template)]
#[template(path = "work/placeholder.html")]
struct Queue {
    layout: Layout,
}

async fn queue(State(app): State<AppState>, current: CurrentHandler) -> Response {
    render(
        StatusCode::OK,
        &Queue {
            layout: Layout::signed_in(&app, &current, "Queue", Section::Queue),
        },
    )
}
