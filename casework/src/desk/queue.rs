//! The queue and search: [`Desk::queue`] answers one [`QueueQuery`] (a view,
//! filters, a search, a sort and a page) with a [`QueuePage`] of case rows and
//! the counts a queue screen shows, from the in-memory case index.
//!
//! It owns the filter and sort rules and what a row shows. It does not open
//! anything itself (the index holds what it needs), does not render (the web
//! layer and the CLI do) and never writes the search text anywhere: the
//! audit entry says `search` or `queue`, not what was searched for.

use memchr::memmem;

use super::index::{CaseEntry, Derived, Index, status_slot};
use super::{Desk, DeskError, Handler, Priority, Status};

/// Rows per page when the query does not say.
pub const DEFAULT_PER_PAGE: u32 = 50;
/// The most rows one page may hold.
pub const MAX_PER_PAGE: u32 = 500;
/// `per_page` for every row on one page (the CLI's `list`: one audit entry).
pub const ALL_ROWS: u32 = u32::MAX;

/// Which cases a queue page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum View {
    /// Status `new` and nobody assigned: the work waiting for someone.
    #[default]
    NewUnassigned,
    /// Assigned to the handler asking.
    Mine,
    /// Every case (unreadable ones only for supervisors).
    All,
}

impl View {
    /// The name used in URLs: `new`, `mine`, `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            View::NewUnassigned => "new",
            View::Mine => "mine",
            View::All => "all",
        }
    }
    /// Parse a name written by [`View::as_str`].
    pub fn from_name(s: &str) -> Option<View> {
        match s {
            "new" => Some(View::NewUnassigned),
            "mine" => Some(View::Mine),
            "all" => Some(View::All),
            _ => None,
        }
    }
}

/// What the rows are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortKey {
    /// The server's day of receipt of the case's report and, within a day,
    /// the order the desk pulled them (the vault's change counter `n`).
    #[default]
    Received,
    /// Priority (then as [`SortKey::Received`] within a priority).
    Priority,
}

impl SortKey {
    /// `received` or `priority`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Received => "received",
            SortKey::Priority => "priority",
        }
    }
    /// Parse a name written by [`SortKey::as_str`].
    pub fn from_name(s: &str) -> Option<SortKey> {
        match s {
            "received" => Some(SortKey::Received),
            "priority" => Some(SortKey::Priority),
            _ => None,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Newest (or most urgent) first: the default.
    #[default]
    Descending,
    /// Oldest (or least urgent) first.
    Ascending,
}

impl Direction {
    /// `desc` or `asc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Descending => "desc",
            Direction::Ascending => "asc",
        }
    }
    /// Parse a name written by [`Direction::as_str`].
    pub fn from_name(s: &str) -> Option<Direction> {
        match s {
            "desc" => Some(Direction::Descending),
            "asc" => Some(Direction::Ascending),
            _ => None,
        }
    }
}

/// Whom a case is assigned to, as a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AssigneeFilter {
    /// Nobody.
    Nobody,
    /// This account.
    Account(String),
}

/// One queue request. `Default` is the first page of "new and unassigned",
/// newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueQuery {
    /// The view.
    pub view: View,
    /// Only these statuses (empty: any).
    pub statuses: Vec<Status>,
    /// Only these categories, compared case-insensitively (empty: any).
    pub categories: Vec<String>,
    /// Only these priorities (empty: any).
    pub priorities: Vec<Priority>,
    /// Only cases whose report was received on or after this day (`YYYY-MM-DD`).
    pub received_from: Option<String>,
    /// Only cases whose report was received on or before this day (`YYYY-MM-DD`).
    pub received_to: Option<String>,
    /// Only cases assigned to this account, or to nobody.
    pub assignee: Option<AssigneeFilter>,
    /// Only cases whose report is in one of these languages (BCP 47 tags,
    /// compared case-insensitively; empty: any).
    pub languages: Vec<String>,
    /// `Some(true)`: only flagged cases (unreadable, or a follow-up arrived
    /// while muted); `Some(false)`: only unflagged ones.
    pub flagged: Option<bool>,
    /// Only cases carrying this label (case-insensitive).
    pub label: Option<String>,
    /// Only cases past their response target and not actioned or closed
    /// (issue 17: [`crate::intel::Due::overdue`]).
    pub overdue: bool,
    /// Only closed cases whose retention review date is today or past
    /// (issue 17: [`crate::intel::Review::due`]).
    pub review_due: bool,
    /// Case-insensitive search over every field a reporter can fill (report
    /// and follow-ups: category, details, place, when, people, vehicles, how
    /// known, messages) and the case's ids. Words are ANDed. Never logged.
    pub search: Option<String>,
    /// Sort key.
    pub sort: SortKey,
    /// Sort direction.
    pub direction: Direction,
    /// 1-based page number (0 is taken as 1; past the end gives the last page).
    pub page: u32,
    /// Rows per page (0: [`DEFAULT_PER_PAGE`]; at most [`MAX_PER_PAGE`],
    /// except [`ALL_ROWS`]: every row on one page).
    pub per_page: u32,
}

/// Why a case is flagged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseFlag {
    /// Its report's envelope does not open (tampered, another force's,
    /// unknown key, not a report, a duplicate…). Only supervisors see these.
    Unreadable {
        /// Stable code (`tampered`, `unknown_key`, `duplicate`, …).
        code: String,
        /// The reason in words (from the header; never decrypted text).
        reason: String,
    },
    /// A follow-up arrived while the case was muted: not new work, but
    /// someone may want to look.
    MutedFollowUp,
}

/// One case in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    /// The case id (its first report's id, 32 hex digits).
    pub case_id: String,
    /// The short form shown to people (12 hex digits; any unambiguous
    /// prefix of 4 or more is accepted back).
    pub short_id: String,
    /// The server's UTC day of receipt of the report, `YYYY-MM-DD`.
    pub received: String,
    /// The server's day of the latest follow-up, if any.
    pub last_follow_up: Option<String>,
    /// The order the desk pulled the report in (the vault's change counter).
    pub pulled: i64,
    /// The reporter's category (empty for an unreadable case).
    pub category: String,
    /// Where, as the reporter said ("not known" if not).
    pub place: String,
    /// The first words of the details, on one line (at most 120 characters).
    pub summary: String,
    /// The report's language tag.
    pub language: String,
    /// Short thread id (8 hex digits), or `-` without reply material.
    pub thread: String,
    /// The case's status.
    pub status: Status,
    /// The case's priority.
    pub priority: Priority,
    /// The account it is assigned to.
    pub assignee: Option<String>,
    /// Its labels, sorted.
    pub labels: Vec<String>,
    /// Whether it is muted.
    pub muted: bool,
    /// Why it is flagged, if it is.
    pub flag: Option<CaseFlag>,
    /// How many follow-ups it has.
    pub follow_ups: u32,
    /// How many replies the force sent.
    pub replies: u32,
    /// How many notes it has.
    pub notes: u32,
    /// Something happened on the case since the asking handler last opened it
    /// (or they never did, or they marked it unread).
    pub unread: bool,
    /// The accounts that have seen the case as it is now, sorted.
    pub seen_by: Vec<String>,
    /// Its grading and response target (issue 17).
    pub intel: super::intel::RowIntel,
    /// The force it was transferred to (display name), if it was: the
    /// queue shows "transferred" (issue 17).
    pub transferred_to: Option<String>,
    /// The force that transferred it here (display name), if one did.
    pub transferred_from: Option<String>,
}

/// How many cases each view and each status holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueCounts {
    /// Cases in the "new and unassigned" view (no filters).
    pub new_unassigned: usize,
    /// Cases assigned to the asking handler (no filters).
    pub mine: usize,
    /// Every case the asking handler may see (no filters).
    pub all: usize,
    /// Cases per status, within the query's view and its other filters (the
    /// status filter aside), in workflow order.
    pub by_status: Vec<(Status, usize)>,
    /// Flagged cases the asking handler may see (no filters).
    pub flagged: usize,
    /// Cases unread by the asking handler in the "mine" view.
    pub mine_unread: usize,
}

/// The values the filters can take, from every case the handler may see
/// (for the filter form's options), each sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facets {
    /// Categories.
    pub categories: Vec<String>,
    /// Language tags.
    pub languages: Vec<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Accounts cases are assigned to.
    pub assignees: Vec<String>,
}

/// One page of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePage {
    /// The query as answered (page and per-page clamped).
    pub query: QueueQuery,
    /// The rows of this page.
    pub rows: Vec<QueueRow>,
    /// Cases matching the query across all pages.
    pub total: usize,
    /// This page (1-based).
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// Number of pages (at least 1).
    pub pages: u32,
    /// Counts per view and status.
    pub counts: QueueCounts,
    /// Filter options.
    pub facets: Facets,
}

impl QueueQuery {
    /// Check the query's free-form parts; the error names the field.
    pub fn validate(&self) -> Result<(), DeskError> {
        for (name, day) in [
            ("received from", &self.received_from),
            ("received to", &self.received_to),
        ] {
            if let Some(d) = day
                && !crate::client::is_day(d)
            {
                return Err(DeskError::Invalid(format!(
                    "the day {name} must be a date as YYYY-MM-DD (for example 2026-12-07)"
                )));
            }
        }
        if self
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > 200)
        {
            return Err(DeskError::Invalid(
                "the search is longer than 200 characters: search for fewer words".into(),
            ));
        }
        Ok(())
    }

    fn per_page(&self) -> u32 {
        match self.per_page {
            0 => DEFAULT_PER_PAGE,
            ALL_ROWS => ALL_ROWS,
            n => n.min(MAX_PER_PAGE),
        }
    }

    /// The search's words, lowercased, each as a substring finder built
    /// once for the whole walk (SIMD `memmem`, much faster than a fresh
    /// `str::contains` per case at 100,000 cases).
    fn needles(&self) -> Vec<memmem::Finder<'static>> {
        self.search
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(|w| memmem::Finder::new(w.to_lowercase().as_bytes()).into_owned())
            .collect()
    }
}

/// Whether `c` is in `view` for `who` (visibility aside).
fn in_view(c: &CaseEntry, view: View, who: &Handler) -> bool {
    match view {
        View::NewUnassigned => {
            c.status == Status::New && c.assignee.is_none() && !c.is_unreadable()
        }
        View::Mine => c.assignee.as_deref() == Some(who.account.as_str()),
        View::All => true,
    }
}

/// Whether `who` may see `c` at all: unreadable cases are for supervisors.
pub(crate) fn visible(c: &CaseEntry, who: &Handler) -> bool {
    !c.is_unreadable() || who.role.supervises()
}

/// What the time-dependent filters (overdue, review due) need: the
/// force's rules and the desk's clock, read once per request.
pub(crate) struct Timed<'a> {
    desk: &'a Desk,
    targets: crate::intel::ResponseTargets,
    rules: crate::intel::RetentionRules,
}

impl<'a> Timed<'a> {
    pub(crate) fn of(desk: &'a Desk) -> Timed<'a> {
        Timed {
            desk,
            targets: desk.response_targets().unwrap_or_default(),
            rules: desk.retention_rules().unwrap_or_default(),
        }
    }
    fn overdue(&self, c: &CaseEntry) -> bool {
        self.desk
            .due_of(&self.targets, c)
            .is_some_and(|d| d.overdue)
    }
    fn review_due(&self, c: &CaseEntry) -> bool {
        self.desk.review_of(&self.rules, c).is_some_and(|r| r.due)
    }
}

/// Every filter of `q` but the view and (if `with_status` is false) the status.
fn passes(
    c: &CaseEntry,
    q: &QueueQuery,
    needles: &[memmem::Finder<'_>],
    with_status: bool,
    timed: &Timed<'_>,
) -> bool {
    if q.overdue && !timed.overdue(c) {
        return false;
    }
    if q.review_due && !timed.review_due(c) {
        return false;
    }
    if with_status && !q.statuses.is_empty() && !q.statuses.contains(&c.status) {
        return false;
    }
    if !q.categories.is_empty()
        && !q
            .categories
            .iter()
            .any(|x| x.eq_ignore_ascii_case(c.category.as_str()))
    {
        return false;
    }
    if !q.priorities.is_empty() && !q.priorities.contains(&c.priority) {
        return false;
    }
    if let Some(d) = &q.received_from
        && c.day.as_str() < d.as_str()
    {
        return false;
    }
    if let Some(d) = &q.received_to
        && c.day.as_str() > d.as_str()
    {
        return false;
    }
    match &q.assignee {
        Some(AssigneeFilter::Nobody) if c.assignee.is_some() => return false,
        Some(AssigneeFilter::Account(a)) if c.assignee.as_deref() != Some(a.as_str()) => {
            return false;
        }
        _ => {}
    }
    if !q.languages.is_empty()
        && !q
            .languages
            .iter()
            .any(|x| x.eq_ignore_ascii_case(c.language.as_str()))
    {
        return false;
    }
    if let Some(f) = q.flagged
        && c.is_flagged() != f
    {
        return false;
    }
    if let Some(l) = &q.label
        && !c.labels.iter().any(|x| x.eq_ignore_ascii_case(l))
    {
        return false;
    }
    needles
        .iter()
        .all(|n| n.find(c.haystack.as_bytes()).is_some())
}

/// Whether `q` filters beyond its view and its statuses (then every case
/// in the view is looked at; otherwise the derived counts answer).
fn filtered(q: &QueueQuery, needles: &[memmem::Finder<'_>]) -> bool {
    !q.categories.is_empty()
        || !q.priorities.is_empty()
        || q.received_from.is_some()
        || q.received_to.is_some()
        || q.assignee.is_some()
        || !q.languages.is_empty()
        || q.flagged.is_some()
        || q.label.is_some()
        || q.overdue
        || q.review_due
        || !needles.is_empty()
}

/// The slots of the cases `q.view` starts from, ascending in the query's
/// sort order (the derived orders: nothing is sorted per request, except a
/// handler's own cases by priority).
fn candidates<'a>(
    index: &Index,
    d: &'a Derived,
    q: &QueueQuery,
    who: &Handler,
) -> std::borrow::Cow<'a, [u32]> {
    use std::borrow::Cow;
    match (q.view, q.sort) {
        (View::Mine, sort) => {
            let mut v = d.by_assignee.get(&who.account).cloned().unwrap_or_default();
            if sort == SortKey::Priority {
                // Stable: within a priority, the received order stays.
                v.sort_by_key(|s| index.at(*s).priority.rank());
            }
            Cow::Owned(v)
        }
        (_, SortKey::Received) => Cow::Borrowed(&d.by_received),
        (_, SortKey::Priority) => Cow::Borrowed(&d.by_priority),
    }
}

/// `slots` in the query's direction: newest (most urgent) first unless
/// ascending.
fn directed<'s>(slots: &'s [u32], q: &QueueQuery) -> Box<dyn Iterator<Item = u32> + 's> {
    match q.direction {
        Direction::Descending => Box::new(slots.iter().rev().copied()),
        Direction::Ascending => Box::new(slots.iter().copied()),
    }
}

/// The cases of `index` matching `q` for `who`, sorted (whole list, not paged).
pub(crate) fn select<'a>(
    index: &'a Index,
    q: &QueueQuery,
    who: &Handler,
    timed: &Timed<'_>,
) -> Vec<&'a CaseEntry> {
    let needles = q.needles();
    let d = index.derived();
    let slots = candidates(index, &d, q, who);
    directed(&slots, q)
        .map(|s| index.at(s))
        .filter(|c| {
            visible(c, who) && in_view(c, q.view, who) && passes(c, q, &needles, true, timed)
        })
        .collect()
}

impl Desk {
    /// One page of the queue for `who`. Audited as one entry (`search` when
    /// the query searches, else `queue`; never the search text) before any
    /// row is returned.
    pub async fn queue(&self, who: &Handler, q: &QueueQuery) -> Result<QueuePage, DeskError> {
        q.validate()?;
        self.ring()?;
        let action = if q.search.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            "search"
        } else {
            "queue"
        };
        self.record_audit(who, action, None, Some(format!("view {}", q.view.as_str())))
            .await?;
        self.sync().await?;
        // The walk is CPU work (a search reads every case's text): on a
        // blocking thread, so it never holds up the async workers that
        // serve the other requests.
        let (desk, who, q) = (self.clone(), who.clone(), q.clone());
        tokio::task::spawn_blocking(move || desk.queue_page(&who, &q))
            .await
            .map_err(|_| DeskError::Invalid("the queue could not be built; try again".into()))?
    }

    /// The page of `q` for `who` from the index as it is (no I/O).
    fn queue_page(&self, who: &Handler, q: &QueueQuery) -> Result<QueuePage, DeskError> {
        let timed = Timed::of(self);
        let index = self.index_read()?;
        let needles = q.needles();
        // The orders, counts and options that do not depend on the query are
        // the index's (rebuilt once after each change, not per request).
        let d = index.derived();
        let t = &d.totals[usize::from(who.role.supervises())];
        let mut counts = QueueCounts {
            all: t.all,
            new_unassigned: t.new_unassigned,
            flagged: t.flagged,
            ..QueueCounts::default()
        };
        for s in d.by_assignee.get(&who.account).into_iter().flatten() {
            let c = index.at(*s);
            if visible(c, who) {
                counts.mine += 1;
                if index.unread(c, &who.account) {
                    counts.mine_unread += 1;
                }
            }
        }
        let per_page = q.per_page();
        let pages_of = |total: usize| total.div_ceil(per_page as usize).max(1) as u32;
        let slots = candidates(&index, &d, q, who);
        let wanted = |c: &CaseEntry| q.statuses.is_empty() || q.statuses.contains(&c.status);
        let (total, page, mut rows): (usize, u32, Vec<QueueRow>);
        let by_status: [usize; 4];
        if !filtered(q, &needles) && q.view != View::Mine {
            // No filter but the view and statuses: the counts are known, and
            // only the cases up to this page are looked at.
            by_status = match q.view {
                View::NewUnassigned => [t.new_unassigned, 0, 0, 0],
                _ => t.by_status,
            };
            total = Status::ALL
                .iter()
                .zip(by_status)
                .filter(|(s, _)| q.statuses.is_empty() || q.statuses.contains(s))
                .map(|(_, n)| n)
                .sum();
            page = q.page.clamp(1, pages_of(total));
            rows = directed(&slots, q)
                .map(|s| index.at(s))
                .filter(|c| visible(c, who) && in_view(c, q.view, who) && wanted(c))
                .skip((page as usize - 1) * per_page as usize)
                .take(per_page as usize)
                .map(|c| index.row(c, &who.account))
                .collect();
        } else {
            // One walk over the view's cases in order: the matches and the
            // counts per status (a search's words looked for once per case).
            let mut per_status = [0usize; 4];
            let mut hits: Vec<&CaseEntry> = Vec::new();
            for c in directed(&slots, q).map(|s| index.at(s)) {
                if visible(c, who)
                    && in_view(c, q.view, who)
                    && passes(c, q, &needles, false, &timed)
                {
                    per_status[status_slot(c.status)] += 1;
                    if wanted(c) {
                        hits.push(c);
                    }
                }
            }
            by_status = per_status;
            total = hits.len();
            page = q.page.clamp(1, pages_of(total));
            rows = hits
                .iter()
                .skip((page as usize - 1) * per_page as usize)
                .take(per_page as usize)
                .map(|c| index.row(c, &who.account))
                .collect();
        }
        let pages = pages_of(total);
        counts.by_status = Status::ALL.iter().copied().zip(by_status).collect();
        let facets = Facets {
            categories: t.categories.clone(),
            languages: t.languages.clone(),
            labels: t.labels.clone(),
            assignees: t.assignees.clone(),
        };
        drop(index);
        self.fill_intel(&mut rows)?;
        let mut query = q.clone();
        query.page = page;
        query.per_page = per_page;
        Ok(QueuePage {
            query,
            rows,
            total,
            page,
            per_page,
            pages,
            counts,
            facets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn sorted_by_day_then_pull_order_or_priority_paged_and_counted() {
        let t = TestHome::new("north");
        let vault = t.vault().await;
        let mut ids = Vec::new();
        for (day, lang) in [
            ("2026-12-01", "en"),
            ("2026-12-01", "cy"),
            ("2026-11-30", "en"),
        ] {
            let r = Reporter::new();
            ids.push(
                t.store(&vault, day, &r.report_in(lang, "x", "y", "z"))
                    .await,
            );
        }
        let (a, b, c) = (ids[0].as_str(), ids[1].as_str(), ids[2].as_str());
        let desk = t.desk_on(vault).await;
        let ann = handler("ann");
        let order = |p: QueuePage| p.rows.into_iter().map(|r| r.case_id).collect::<Vec<_>>();
        let all = QueueQuery {
            view: View::All,
            ..QueueQuery::default()
        };
        // Newest day first, and within a day the later pull first.
        assert_eq!(order(desk.queue(&ann, &all).await.unwrap()), [b, a, c]);
        let asc = QueueQuery {
            direction: Direction::Ascending,
            ..all.clone()
        };
        assert_eq!(order(desk.queue(&ann, &asc).await.unwrap()), [c, a, b]);
        desk.set_priority(&ann, c, Priority::High).await.unwrap();
        desk.set_priority(&ann, b, Priority::Low).await.unwrap();
        let by_priority = QueueQuery {
            sort: SortKey::Priority,
            ..all.clone()
        };
        assert_eq!(
            order(desk.queue(&ann, &by_priority).await.unwrap()),
            [c, a, b]
        );
        // Paging.
        let paged = QueueQuery {
            per_page: 2,
            page: 2,
            ..all.clone()
        };
        let p = desk.queue(&ann, &paged).await.unwrap();
        assert_eq!((p.total, p.pages, p.page), (3, 2, 2));
        assert_eq!(order(p), [c]);
        // Views, filters and counts.
        desk.take(&ann, a).await.unwrap();
        desk.set_status(&ann, c, Status::Closed).await.unwrap();
        let p = desk.queue(&ann, &QueueQuery::default()).await.unwrap();
        assert_eq!(order(p.clone()), [b], "new and unassigned");
        assert_eq!(
            (
                p.counts.new_unassigned,
                p.counts.mine,
                p.counts.all,
                p.counts.flagged
            ),
            (1, 1, 3, 0)
        );
        assert_eq!(p.facets.languages, ["cy", "en"]);
        assert_eq!(p.facets.assignees, ["ann"]);
        let welsh = QueueQuery {
            languages: vec!["CY".into()],
            ..all.clone()
        };
        assert_eq!(order(desk.queue(&ann, &welsh).await.unwrap()), [b]);
        let closed = QueueQuery {
            statuses: vec![Status::Closed],
            ..all.clone()
        };
        let p = desk.queue(&ann, &closed).await.unwrap();
        assert_eq!(order(p.clone()), [c]);
        assert_eq!(
            p.counts.by_status,
            [
                (Status::New, 2),
                (Status::Triaged, 0),
                (Status::Actioned, 0),
                (Status::Closed, 1)
            ],
            "per status within the view, the status filter aside"
        );
        let nobody = QueueQuery {
            assignee: Some(AssigneeFilter::Nobody),
            received_from: Some("2026-12-01".into()),
            ..all.clone()
        };
        assert_eq!(order(desk.queue(&ann, &nobody).await.unwrap()), [b]);
        // The derived orders and counts follow every change: a report
        // pulled after a queue page is counted and placed at once.
        let before = desk.queue(&ann, &all).await.unwrap();
        let vault = desk.vault().clone();
        let d = t
            .store(&vault, "2026-12-02", &Reporter::new().report("x", "y", "z"))
            .await;
        let p = desk.queue(&ann, &all).await.unwrap();
        assert_eq!(p.total, before.total + 1);
        assert_eq!(p.counts.all, before.counts.all + 1);
        assert_eq!(p.counts.new_unassigned, before.counts.new_unassigned + 1);
        assert_eq!(p.rows[0].case_id, d, "newest day first");
        let p = desk.queue(&ann, &QueueQuery::default()).await.unwrap();
        assert_eq!(order(p), [d.as_str(), b]);
        let bad = QueueQuery {
            received_to: Some("yesterday".into()),
            ..all
        };
        assert!(matches!(
            desk.queue(&ann, &bad).await,
            Err(DeskError::Invalid(_))
        ));
    }
}
