//! The queue (`/`) and search (`/search`) pages — tabs with counts, the MOJ
//! filter layout as a GET form (a view is a URL), the sortable table, the
//! pagination — and the two POSTs the queue page carries: a bulk action
//! (`/bulk`, on the selection or on every case in the view) and "Pull now"
//! (`/pull`).
//!
//! It does not filter, sort, count or decide who may act in bulk: the
//! library's `Desk::queue` and `Desk::bulk` do.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use quietline_casework::desk::{
    Action, AssigneeFilter, BulkOutcome, BulkTarget, Direction, QueuePage, SortKey, Status, View,
};

use quietline_casework::labels::{self, Lang};

use super::view::{self, NOBODY, Opt, PageLink, RowView};
use super::{Fields, desk_error, see_other};
use crate::AppState;
use crate::pages::{Layout, Section, render};
use crate::security::CurrentHandler;

/// A tab of the sub-navigation.
pub(crate) struct Tab {
    pub href: String,
    pub text: &'static str,
    pub count: usize,
    /// Cases in it unread by the handler (shown for "Mine").
    pub unread: usize,
    pub current: bool,
}

/// A sortable column heading: its no-JS link and its `aria-sort`.
pub(crate) struct SortHead {
    pub href: String,
    pub aria: &'static str,
}

/// A filter that is on, with the link that takes it off.
pub(crate) struct OnFilter {
    pub text: String,
    pub remove: String,
}

#[derive(Template)]
#[template(path = "work/queue.html")]
pub(crate) struct QueueTemplate {
    pub layout: Layout,
    /// `/` or `/search`.
    pub path: &'static str,
    pub search_page: bool,
    pub heading: String,
    pub q: String,
    pub tabs: Vec<Tab>,
    pub statuses: Vec<Opt>,
    pub categories: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub languages: Vec<Opt>,
    pub assignees: Vec<Opt>,
    pub labels: Vec<Opt>,
    pub flagged: Vec<Opt>,
    /// Only overdue cases (issue 17).
    pub overdue: bool,
    /// Only cases due for their retention review (issue 17).
    pub review_due: bool,
    /// The queue with only overdue cases, and with only those due for review.
    pub overdue_href: String,
    pub review_href: String,
    pub from: String,
    pub to: String,
    pub view: &'static str,
    pub sort: &'static str,
    pub dir: &'static str,
    pub on_filters: Vec<OnFilter>,
    pub clear_href: String,
    pub rows: Vec<RowView>,
    pub total: usize,
    pub pages: u32,
    pub first_row: usize,
    pub last_row: usize,
    pub received_head: SortHead,
    pub priority_head: SortHead,
    pub links: Vec<PageLink>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub bulk: bool,
    /// The bulk assign list (supervisors): nobody, then the active accounts.
    pub bulk_assignees: Vec<Opt>,
    /// The view's URL (where a bulk action comes back to).
    pub here: String,
    pub notice: Option<String>,
    /// Show the table (the search page shows none before a search).
    pub show_table: bool,
}

/// The options of an assign list: "Nobody", then every active account (the
/// library's `Desk::assignees`), `selected` chosen (else `current`, the
/// case's assignee, else nobody). If the accounts cannot be read, the list
/// holds only "Nobody" (and the assignee): the library checks the account
/// again on POST.
pub(crate) async fn assign_options(
    app: &AppState,
    current: Option<&str>,
    selected: Option<&str>,
) -> Vec<Opt> {
    let selected = selected
        .or(current)
        .filter(|s| !s.is_empty() && *s != NOBODY);
    let mut out = vec![Opt::new("", "Nobody", selected.is_none())];
    let accounts = app.desk.assignees().await.unwrap_or_default();
    for a in &accounts {
        let on = selected == Some(a.account.as_str());
        out.push(Opt::new(
            a.account.clone(),
            format!("{} ({})", a.account, a.role),
            on,
        ));
    }
    // The case's assignee, if no longer active, so the page says who has it
    // (a refused name that was posted is not shown again).
    if let Some(c) = current.filter(|c| !c.is_empty() && !out.iter().any(|o| o.value == *c)) {
        out.push(Opt::new(
            c,
            format!("{c} (not an active account)"),
            selected == Some(c),
        ));
    }
    out
}

/// `GET /`.
pub(crate) async fn queue(
    State(app): State<AppState>,
    current: CurrentHandler,
    Query(f): Query<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let notice = f.get("pulled").map(|n| match n.parse::<u64>() {
        Ok(0) => "Pulled: no new reports.".to_owned(),
        Ok(1) => "Pulled: 1 new report.".to_owned(),
        Ok(n) => format!("Pulled: {n} new reports."),
        Err(_) => "Pulled.".to_owned(),
    });
    let notice = notice.or_else(|| {
        f.get("bulk").map(|n| match n.parse::<u64>() {
            Ok(1) => "1 case changed.".to_owned(),
            Ok(n) => format!("{n} cases changed."),
            Err(_) => "Done.".to_owned(),
        })
    });
    page(&app, &current, &f, "/", View::NewUnassigned, notice).await
}

/// `GET /search?q=`.
pub(crate) async fn search(
    State(app): State<AppState>,
    current: CurrentHandler,
    Query(f): Query<Vec<(String, String)>>,
) -> Response {
    page(&app, &current, &Fields(f), "/search", View::All, None).await
}

async fn page(
    app: &AppState,
    current: &CurrentHandler,
    f: &Fields,
    path: &'static str,
    default_view: View,
    notice: Option<String>,
) -> Response {
    let search_page = path == "/search";
    let (query, errors) = view::parse_query(f, default_view);
    let show_table = !search_page || query.search.is_some();
    let qp = match app.desk.queue(&current.handler, &query).await {
        Ok(p) => p,
        Err(e) => return desk_error(app, current, e),
    };
    let (title, heading) = if search_page {
        match &query.search {
            Some(s) => (format!("Search: {s}"), "Search".to_owned()),
            None => ("Search".to_owned(), "Search".to_owned()),
        }
    } else {
        ("Queue".to_owned(), "Queue".to_owned())
    };
    let mut layout = Layout::signed_in(
        app,
        current,
        title,
        if search_page {
            Section::Search
        } else {
            Section::Queue
        },
    );
    for (field, message) in errors {
        layout = layout.error(field, message);
    }
    let t = build(
        layout,
        path,
        default_view,
        heading,
        f,
        &qp,
        current,
        notice,
        show_table,
    );
    let mut t = t;
    if t.bulk {
        t.bulk_assignees = assign_options(app, None, None).await;
    }
    render(StatusCode::OK, &t)
}

#[allow(clippy::too_many_arguments)]
fn build(
    layout: Layout,
    path: &'static str,
    default_view: View,
    heading: String,
    f: &Fields,
    qp: &QueuePage,
    current: &CurrentHandler,
    notice: Option<String>,
    show_table: bool,
) -> QueueTemplate {
    let q = &qp.query;
    let at = |p: &[(&'static str, String)]| view::href(path, p);

    // Tabs keep the filters, change the view, start at page 1.
    let tab = |v: View, text: &'static str, count: usize| {
        let mut qq = q.clone();
        qq.view = v;
        qq.page = 1;
        Tab {
            href: at(&view::params(&qq, default_view, false)),
            text,
            count,
            unread: if v == View::Mine {
                qp.counts.mine_unread
            } else {
                0
            },
            current: q.view == v,
        }
    };
    let tabs = vec![
        tab(
            View::NewUnassigned,
            "New and unassigned",
            qp.counts.new_unassigned,
        ),
        tab(View::Mine, "Mine", qp.counts.mine),
        tab(View::All, "All", qp.counts.all),
    ];

    let statuses = qp
        .counts
        .by_status
        .iter()
        .map(|(s, n)| {
            Opt::new(
                s.as_str(),
                format!("{} ({n})", view::status_tag(*s).text),
                q.statuses.contains(s),
            )
        })
        .collect();
    let categories = qp
        .facets
        .categories
        .iter()
        .map(|c| {
            Opt::new(
                c.clone(),
                labels::category(c, Lang::En),
                q.categories.iter().any(|x| x.eq_ignore_ascii_case(c)),
            )
        })
        .collect();
    let priorities = view::PRIORITIES
        .iter()
        .map(|p| {
            Opt::new(
                p.as_str(),
                view::priority_tag(*p).text,
                q.priorities.contains(p),
            )
        })
        .collect();
    let languages = qp
        .facets
        .languages
        .iter()
        .map(|l| {
            Opt::new(
                l.clone(),
                language_name(l),
                q.languages.iter().any(|x| x.eq_ignore_ascii_case(l)),
            )
        })
        .collect();
    let mut assignees = vec![
        Opt::new("", "Anyone", q.assignee.is_none()),
        Opt::new(NOBODY, "Nobody", q.assignee == Some(AssigneeFilter::Nobody)),
    ];
    let mut names = qp.facets.assignees.clone();
    if !names.contains(&current.handler.account) {
        names.push(current.handler.account.clone());
        names.sort();
    }
    if let Some(AssigneeFilter::Account(a)) = &q.assignee
        && !names.contains(a)
    {
        names.push(a.clone());
    }
    assignees.extend(names.into_iter().map(|a| {
        let on = q.assignee == Some(AssigneeFilter::Account(a.clone()));
        Opt::new(a.clone(), a, on)
    }));
    let mut labels = vec![Opt::new("", "Any label", q.label.is_none())];
    let mut label_names = qp.facets.labels.clone();
    if let Some(l) = &q.label
        && !label_names.iter().any(|x| x.eq_ignore_ascii_case(l))
    {
        label_names.push(l.clone());
    }
    labels.extend(label_names.into_iter().map(|l| {
        let on = q.label.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(&l));
        Opt::new(l.clone(), l, on)
    }));
    let flagged = vec![
        Opt::new("", "Flagged or not", q.flagged.is_none()),
        Opt::new(
            "yes",
            format!("Only flagged ({})", qp.counts.flagged),
            q.flagged == Some(true),
        ),
        Opt::new("no", "Only not flagged", q.flagged == Some(false)),
    ];

    // The filters that are on, each with a link that takes it off.
    let mut on_filters = Vec::new();
    let base = view::params(q, default_view, false);
    let without = |name: &'static str, value: &str| {
        let p: Vec<(&'static str, String)> = base
            .iter()
            .filter(|(k, v)| !(*k == name && v == value))
            .cloned()
            .collect();
        at(&p)
    };
    for (k, v) in &base {
        let text = match *k {
            "status" => format!(
                "Status: {}",
                Status::from_name(v).map_or(v.as_str(), |s| view::status_tag(s).text)
            ),
            "category" => format!("Category: {}", labels::category(v, Lang::En)),
            "priority" => format!("Priority: {v}"),
            "from" => format!("Received from {v}"),
            "to" => format!("Received to {v}"),
            "assignee" if v == NOBODY => "Assigned to nobody".to_owned(),
            "assignee" => format!("Assigned to {v}"),
            "language" => format!("Language: {}", language_name(v)),
            "flagged" if v == "yes" => "Only flagged".to_owned(),
            "flagged" => "Only not flagged".to_owned(),
            "label" => format!("Label: {v}"),
            "overdue" => "Only overdue".to_owned(),
            "review" => "Due for retention review".to_owned(),
            _ => continue,
        };
        on_filters.push(OnFilter {
            text,
            remove: without(k, v),
        });
    }
    let mut cleared = q.clone();
    cleared.statuses.clear();
    cleared.categories.clear();
    cleared.priorities.clear();
    cleared.languages.clear();
    cleared.received_from = None;
    cleared.received_to = None;
    cleared.assignee = None;
    cleared.flagged = None;
    cleared.label = None;
    cleared.overdue = false;
    cleared.review_due = false;
    cleared.page = 1;
    let clear_href = at(&view::params(&cleared, default_view, false));

    // Sorting links (no JS): a column sorted one way links to the other.
    let sort_head = |key: SortKey| {
        let mut qq = q.clone();
        qq.sort = key;
        qq.page = 1;
        let aria = if q.sort == key {
            match q.direction {
                Direction::Descending => "descending",
                Direction::Ascending => "ascending",
            }
        } else {
            "none"
        };
        qq.direction = if q.sort == key && q.direction == Direction::Descending {
            Direction::Ascending
        } else {
            Direction::Descending
        };
        SortHead {
            href: at(&view::params(&qq, default_view, false)),
            aria,
        }
    };

    // Shortcuts from any view: every case overdue, or due for review.
    let shortcut = |overdue: bool, review_due: bool| {
        let qq = quietline_casework::desk::QueueQuery {
            view: View::All,
            overdue,
            review_due,
            ..Default::default()
        };
        at(&view::params(&qq, default_view, false))
    };
    let overdue_href = shortcut(true, false);
    let review_href = shortcut(false, true);

    let links = view::pagination(q, path, default_view, qp.page, qp.pages);
    let page_href = |n: u32| {
        let mut qq = q.clone();
        qq.page = n;
        at(&view::params(&qq, default_view, true))
    };
    let first_row = if qp.total == 0 {
        0
    } else {
        (qp.page as usize - 1) * qp.per_page as usize + 1
    };
    QueueTemplate {
        layout,
        path,
        search_page: path == "/search",
        heading,
        q: f.raw("q").to_owned(),
        tabs,
        statuses,
        categories,
        priorities,
        languages,
        assignees,
        labels,
        flagged,
        overdue: q.overdue,
        review_due: q.review_due,
        overdue_href,
        review_href,
        from: f.get("from").unwrap_or_default().to_owned(),
        to: f.get("to").unwrap_or_default().to_owned(),
        view: q.view.as_str(),
        sort: q.sort.as_str(),
        dir: q.direction.as_str(),
        on_filters,
        clear_href,
        rows: qp.rows.iter().map(RowView::of).collect(),
        total: qp.total,
        pages: qp.pages,
        first_row,
        last_row: first_row + qp.rows.len().saturating_sub(1),
        received_head: sort_head(SortKey::Received),
        priority_head: sort_head(SortKey::Priority),
        links,
        prev: (qp.page > 1).then(|| page_href(qp.page - 1)),
        next: (qp.page < qp.pages).then(|| page_href(qp.page + 1)),
        bulk: current.handler.role.supervises(),
        bulk_assignees: Vec::new(),
        here: at(&view::params(q, default_view, true)),
        notice,
        show_table,
    }
}

/// Whether `url` is a view of the queue or of search (where a bulk action
/// comes back to): nothing else is ever put in a `Location` from a form.
fn is_view_url(url: &str) -> bool {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    matches!(path, "/" | "/search")
        && query
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"%&=+-._~()".contains(&b))
}

/// A language tag's name, for the tags the reporter page sends.
pub(crate) fn language_name(tag: &str) -> String {
    match tag.to_ascii_lowercase().as_str() {
        "en" | "en-gb" => "English".to_owned(),
        "cy" | "cy-gb" => "Welsh (Cymraeg)".to_owned(),
        _ => tag.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_actions_come_back_only_to_a_view() {
        assert!(is_view_url("/"));
        assert!(is_view_url("/?view=all&status=new&assignee=%28nobody%29"));
        assert!(is_view_url("/search?q=AB12+CDE"));
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "/cases/x",
            "/?a=<b>",
            "/?a\r\nb",
        ] {
            assert!(!is_view_url(bad), "{bad}");
        }
    }
}

#[derive(Template)]
#[template(path = "work/bulk_done.html")]
struct BulkDone {
    layout: Layout,
    what: String,
    changed: usize,
    unchanged: usize,
    /// (case id, short id, why).
    failed: Vec<(String, String, String)>,
    back: String,
}

impl BulkDone {
    fn new(layout: Layout, what: String, outcome: BulkOutcome, back: String) -> BulkDone {
        BulkDone {
            layout,
            what,
            changed: outcome.changed.len(),
            unchanged: outcome.unchanged,
            failed: outcome
                .failed
                .into_iter()
                .map(|(id, why)| {
                    let short = id.get(..12).unwrap_or(&id).to_owned();
                    (id, short, super::capitalised(&why))
                })
                .collect(),
            back,
        }
    }
}

/// `POST /bulk`: `action` (`status`, `assign`, `label`) with its value
/// (`status`, `assignee`, `label`), `scope` (`selected` with `case` values,
/// or `all` with the view in `here`).
pub(crate) async fn bulk(
    State(app): State<AppState>,
    current: CurrentHandler,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let here = f
        .get("here")
        .filter(|h| is_view_url(h))
        .unwrap_or("/")
        .to_owned();
    let path = if here.starts_with("/search") {
        "/search"
    } else {
        "/"
    };
    let default_view = if path == "/search" {
        View::All
    } else {
        View::NewUnassigned
    };
    let view_fields = Fields(
        here.split_once('?')
            .and_then(|(_, qs)| serde_urlencoded::from_str(qs).ok())
            .unwrap_or_default(),
    );
    let (action, what, field) = match f.get("action") {
        Some("status") => match f.get("status").and_then(Status::from_name) {
            Some(s) => (
                Some(Action::Status(s)),
                format!("Status set to {}", view::status_tag(s).text.to_lowercase()),
                "bulk-status",
            ),
            None => (None, "Choose the status to set".to_owned(), "bulk-status"),
        },
        Some("assign") => match f.get("assignee") {
            None | Some(NOBODY) => (
                Some(Action::Assign(None)),
                "Assigned to nobody".to_owned(),
                "bulk-assignee",
            ),
            Some(a) => (
                Some(Action::Assign(Some(a.to_owned()))),
                format!("Assigned to {a}"),
                "bulk-assignee",
            ),
        },
        Some("label") => match f.get("label") {
            Some(l) => (
                Some(Action::Label {
                    add: vec![l.to_owned()],
                    remove: vec![],
                }),
                format!("Label {l} added"),
                "bulk-label",
            ),
            None => (None, "Enter the label to add".to_owned(), "bulk-label"),
        },
        _ => (
            None,
            "Choose what to do to the cases".to_owned(),
            "bulk-action",
        ),
    };
    let target = match f.get("scope") {
        Some("all") => {
            let (mut q, _) = view::parse_query(&view_fields, default_view);
            q.page = 1;
            Some(BulkTarget::Query(q))
        }
        _ => {
            let ids: Vec<String> = f.all("case").into_iter().map(str::to_owned).collect();
            (!ids.is_empty()).then_some(BulkTarget::Cases(ids))
        }
    };
    let (action, target) = match (action, target) {
        (Some(a), Some(t)) => (a, t),
        (a, t) => {
            // Show the view again with the error in its summary.
            let mut layout = Layout::signed_in(&app, &current, "Queue", Section::Queue);
            if a.is_none() {
                layout = layout.error(field, what.clone());
            }
            if t.is_none() {
                layout = layout.error(
                    "scope",
                    "Select at least one case, or choose every case in this view",
                );
            }
            let (query, _) = view::parse_query(&view_fields, default_view);
            return match app.desk.queue(&current.handler, &query).await {
                Ok(qp) => {
                    let heading = if path == "/search" { "Search" } else { "Queue" };
                    let t = build(
                        layout,
                        path,
                        default_view,
                        heading.to_owned(),
                        &view_fields,
                        &qp,
                        &current,
                        None,
                        true,
                    );
                    let mut t = t;
                    if t.bulk {
                        t.bulk_assignees = assign_options(&app, None, f.get("assignee")).await;
                    }
                    render(StatusCode::BAD_REQUEST, &t)
                }
                Err(e) => desk_error(&app, &current, e),
            };
        }
    };
    match app.desk.bulk(&current.handler, &target, &action).await {
        Ok(outcome) if outcome.failed.is_empty() => {
            let sep = if here.contains('?') { '&' } else { '?' };
            see_other(&format!("{here}{sep}bulk={}", outcome.changed.len()))
        }
        Ok(outcome) => render(
            StatusCode::OK,
            &BulkDone::new(
                Layout::signed_in(&app, &current, "Bulk action", Section::Queue),
                what,
                outcome,
                here,
            ),
        ),
        Err(e) => desk_error(&app, &current, e),
    }
}

/// `POST /pull`: pull now (any handler), then back to the queue with the
/// count of new reports.
pub(crate) async fn pull_now(State(app): State<AppState>, current: CurrentHandler) -> Response {
    match app.desk.pull_now(&current.handler).await {
        Ok(run) => see_other(&format!("/?pulled={}", run.summary.new)),
        Err(e) => desk_error(&app, &current, e),
    }
}
