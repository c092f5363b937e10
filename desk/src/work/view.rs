//! The view models the work templates render: a queue query to and from
//! its URL (so a view is a link), table rows, tags, options of the filter
//! form, pagination links. Plain data and pure functions, no I/O.
//!
//! It does not filter or sort anything (the library does) and holds no
//! rule about cases: it only names what the library returned.

use quietline_casework::desk::{
    AssigneeFilter, CaseFlag, Direction, Priority, QueueQuery, QueueRow, SortKey, Status, View,
};

use super::Fields;

/// The `assignee` filter's value for "nobody" (parentheses are not allowed
/// in an account name, so no account can be called this).
pub const NOBODY: &str = "(nobody)";

/// A queue query read from a URL, and the filter fields that were wrong
/// (field id, message); the query leaves a wrong field out.
pub fn parse_query(f: &Fields, default_view: View) -> (QueueQuery, Vec<(&'static str, String)>) {
    let mut errors = Vec::new();
    let mut q = QueueQuery {
        view: f
            .get("view")
            .and_then(View::from_name)
            .unwrap_or(default_view),
        statuses: f
            .all("status")
            .into_iter()
            .filter_map(Status::from_name)
            .collect(),
        categories: f.all("category").into_iter().map(str::to_owned).collect(),
        priorities: f
            .all("priority")
            .into_iter()
            .filter_map(Priority::from_name)
            .collect(),
        languages: f.all("language").into_iter().map(str::to_owned).collect(),
        label: f.get("label").map(str::to_owned),
        search: f.get("q").map(str::to_owned),
        sort: f
            .get("sort")
            .and_then(SortKey::from_name)
            .unwrap_or_default(),
        direction: f
            .get("dir")
            .and_then(Direction::from_name)
            .unwrap_or_default(),
        page: f.get("page").and_then(|p| p.parse().ok()).unwrap_or(1),
        ..QueueQuery::default()
    };
    q.assignee = match f.get("assignee") {
        None => None,
        Some(NOBODY) => Some(AssigneeFilter::Nobody),
        Some(a) => Some(AssigneeFilter::Account(a.to_owned())),
    };
    q.flagged = match f.get("flagged") {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    // Issue 17: past the response target; due for the retention review.
    q.overdue = f.get("overdue") == Some("yes");
    q.review_due = f.get("review") == Some("due");
    // Each day on its own, by the library's rule, so the error is beside
    // the right field and the other filters still apply.
    for (field, name) in [("from", "received from"), ("to", "received to")] {
        let Some(day) = f.get(field) else { continue };
        let probe = QueueQuery {
            received_from: Some(day.to_owned()),
            ..QueueQuery::default()
        };
        if probe.validate().is_ok() {
            if field == "from" {
                q.received_from = Some(day.to_owned());
            } else {
                q.received_to = Some(day.to_owned());
            }
        } else {
            errors.push((
                field,
                format!("Enter the day {name} as YYYY-MM-DD, for example 2026-12-07"),
            ));
        }
    }
    if let Err(e) = q.validate() {
        // Only the search can still be wrong (too long): drop it.
        errors.push(("q", super::capitalised(&e.to_string())));
        q.search = None;
    }
    (q, errors)
}

/// The URL parameters of `q` that differ from the defaults (the page too
/// unless `page` is false), in a fixed order.
pub fn params(q: &QueueQuery, default_view: View, page: bool) -> Vec<(&'static str, String)> {
    let mut p: Vec<(&'static str, String)> = Vec::new();
    if let Some(s) = &q.search {
        p.push(("q", s.clone()));
    }
    if q.view != default_view {
        p.push(("view", q.view.as_str().to_owned()));
    }
    p.extend(q.statuses.iter().map(|s| ("status", s.as_str().to_owned())));
    p.extend(q.categories.iter().map(|c| ("category", c.clone())));
    p.extend(
        q.priorities
            .iter()
            .map(|x| ("priority", x.as_str().to_owned())),
    );
    if let Some(d) = &q.received_from {
        p.push(("from", d.clone()));
    }
    if let Some(d) = &q.received_to {
        p.push(("to", d.clone()));
    }
    match &q.assignee {
        Some(AssigneeFilter::Nobody) => p.push(("assignee", NOBODY.to_owned())),
        Some(AssigneeFilter::Account(a)) => p.push(("assignee", a.clone())),
        None => {}
    }
    p.extend(q.languages.iter().map(|l| ("language", l.clone())));
    match q.flagged {
        Some(true) => p.push(("flagged", "yes".into())),
        Some(false) => p.push(("flagged", "no".into())),
        None => {}
    }
    if let Some(l) = &q.label {
        p.push(("label", l.clone()));
    }
    if q.overdue {
        p.push(("overdue", "yes".into()));
    }
    if q.review_due {
        p.push(("review", "due".into()));
    }
    if q.sort != SortKey::default() {
        p.push(("sort", q.sort.as_str().to_owned()));
    }
    if q.direction != Direction::default() {
        p.push(("dir", q.direction.as_str().to_owned()));
    }
    if page && q.page > 1 {
        p.push(("page", q.page.to_string()));
    }
    p
}

/// `path` with the parameters as a query string.
pub fn href(path: &str, params: &[(&'static str, String)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    match serde_urlencoded::to_string(params) {
        Ok(s) => format!("{path}?{s}"),
        Err(_) => path.to_owned(),
    }
}

/// A govuk-tag: its text and its colour class.
#[derive(Debug, Clone)]
pub struct Tag {
    /// The text.
    pub text: &'static str,
    /// `govuk-tag--…`.
    pub class: &'static str,
}

/// The tag of a status.
pub fn status_tag(s: Status) -> Tag {
    match s {
        Status::New => Tag {
            text: "New",
            class: "govuk-tag--blue",
        },
        Status::Triaged => Tag {
            text: "Triaged",
            class: "govuk-tag--yellow",
        },
        Status::Actioned => Tag {
            text: "Actioned",
            class: "govuk-tag--green",
        },
        Status::Closed => Tag {
            text: "Closed",
            class: "govuk-tag--grey",
        },
    }
}

/// The tag of a priority.
pub fn priority_tag(p: Priority) -> Tag {
    match p {
        Priority::High => Tag {
            text: "High",
            class: "govuk-tag--red",
        },
        Priority::Medium => Tag {
            text: "Medium",
            class: "govuk-tag--light-blue",
        },
        Priority::Low => Tag {
            text: "Low",
            class: "govuk-tag--grey",
        },
    }
}

/// Every priority, most urgent first.
pub const PRIORITIES: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

/// Why a case is flagged, in words.
pub fn flag_text(f: &CaseFlag) -> String {
    match f {
        CaseFlag::Unreadable { reason, .. } => format!("Cannot be read: {reason}"),
        CaseFlag::MutedFollowUp => "Follow-up while muted".to_owned(),
    }
}

/// One row of the queue table.
#[derive(Debug, Clone)]
pub struct RowView {
    /// Full case id (the checkbox's value, the link).
    pub case_id: String,
    /// Short id.
    pub short_id: String,
    /// Day received.
    pub received: String,
    /// Sort value of the received column (day, then pull order).
    pub received_sort: String,
    /// Category.
    pub category: String,
    /// Place.
    pub place: String,
    /// First words.
    pub summary: String,
    /// Priority.
    pub priority: Tag,
    /// Priority rank (sort value).
    pub priority_rank: u8,
    /// Status.
    pub status: Tag,
    /// Status order (sort value).
    pub status_rank: usize,
    /// Assignee, or "Nobody".
    pub assignee: String,
    /// Follow-ups.
    pub follow_ups: u32,
    /// Unread by me.
    pub unread: bool,
    /// Who has seen it as it is now.
    pub seen_by: String,
    /// Why flagged.
    pub flag: Option<String>,
    /// Muted.
    pub muted: bool,
    /// Labels.
    pub labels: String,
    /// The report's language, for the `lang` of its words.
    pub lang: Option<String>,
    /// `2 B P`, if graded (issue 17).
    pub grading: Option<String>,
    /// The response target in words ("45 minutes left"), once triaged.
    pub due: Option<String>,
    /// Past its response target.
    pub overdue: bool,
    /// Due for its retention review since this day (issue 17).
    pub review_due: Option<String>,
    /// The force another force transferred it from (issue 17).
    pub transferred_from: Option<String>,
}

/// The tag of a case this force transferred to another (issue 17): it
/// replaces the status (closed) in the queue.
pub const TRANSFERRED: Tag = Tag {
    text: "Transferred",
    class: "govuk-tag--purple",
};

impl RowView {
    /// The view of a library row.
    pub fn of(r: &QueueRow) -> RowView {
        RowView {
            case_id: r.case_id.clone(),
            short_id: r.short_id.clone(),
            received: r.received.clone(),
            received_sort: format!("{}-{:012}", r.received, r.pulled.max(0)),
            category: if r.category.is_empty() {
                "–".to_owned()
            } else {
                // The words the reporter chose (casework's labels).
                quietline_casework::labels::category(
                    &r.category,
                    quietline_casework::labels::Lang::En,
                )
                .to_owned()
            },
            place: r.place.clone(),
            summary: if r.summary.is_empty() {
                format!("Case {}", r.short_id)
            } else {
                r.summary.clone()
            },
            priority: priority_tag(r.priority),
            priority_rank: r.priority.rank(),
            status: if r.transferred_to.is_some() {
                TRANSFERRED
            } else {
                status_tag(r.status)
            },
            status_rank: Status::ALL.iter().position(|s| *s == r.status).unwrap_or(0),
            assignee: r.assignee.clone().unwrap_or_else(|| "Nobody".to_owned()),
            follow_ups: r.follow_ups,
            unread: r.unread,
            seen_by: r.seen_by.join(", "),
            flag: r.flag.as_ref().map(flag_text),
            muted: r.muted,
            labels: r.labels.join(", "),
            lang: lang_attr(&r.language),
            grading: r.intel.grading.clone(),
            due: r.intel.due.as_ref().map(|d| d.words()),
            overdue: r.intel.due.as_ref().is_some_and(|d| d.overdue),
            review_due: r
                .intel
                .review
                .as_ref()
                .filter(|v| v.due)
                .map(|v| v.review_on.clone()),
            transferred_from: r.transferred_from.clone(),
        }
    }
}

/// An option of the filter form (checkbox, radio or select option).
#[derive(Debug, Clone)]
pub struct Opt {
    /// Value sent.
    pub value: String,
    /// Text shown.
    pub text: String,
    /// Checked or selected.
    pub on: bool,
}

impl Opt {
    /// An option.
    pub fn new(value: impl Into<String>, text: impl Into<String>, on: bool) -> Opt {
        Opt {
            value: value.into(),
            text: text.into(),
            on,
        }
    }
}

/// A link of the pagination.
#[derive(Debug, Clone)]
pub struct PageLink {
    /// Page number (0 for an ellipsis).
    pub number: u32,
    /// Its URL.
    pub href: String,
    /// The current page.
    pub current: bool,
}

/// The pagination of `page` of `pages`: first, last, and two either side.
pub fn pagination(
    q: &QueueQuery,
    path: &str,
    default_view: View,
    page: u32,
    pages: u32,
) -> Vec<PageLink> {
    let mut out = Vec::new();
    let mut last_shown = 0;
    for n in 1..=pages {
        let near = n == 1 || n == pages || n.abs_diff(page) <= 2;
        if !near {
            continue;
        }
        if n > last_shown + 1 {
            out.push(PageLink {
                number: 0,
                href: String::new(),
                current: false,
            });
        }
        let mut qq = q.clone();
        qq.page = n;
        out.push(PageLink {
            number: n,
            href: href(path, &params(&qq, default_view, true)),
            current: n == page,
        });
        last_shown = n;
    }
    out
}

/// A language tag fit for an HTML `lang` attribute (BCP 47 characters
/// only); `None` for anything else, and the attribute is left out.
pub fn lang_attr(tag: &str) -> Option<String> {
    let ok = !tag.is_empty()
        && tag.len() <= 35
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then(|| tag.to_owned())
}

/// A desk time (RFC 3339, UTC, `2026-12-07T10:01:00Z`) as people read it:
/// `7 December 2026 at 10:01 UTC`; a day (`2026-12-07`) as `7 December
/// 2026`; anything else as given.
pub fn when(t: &str) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        t.get(r)
            .filter(|x| x.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|x| x.parse::<u32>().ok())
    };
    let date = match (
        b.get(4),
        b.get(7),
        digits(0..4),
        digits(5..7),
        digits(8..10),
    ) {
        (Some(b'-'), Some(b'-'), Some(y), Some(m @ 1..=12), Some(d @ 1..=31)) => {
            format!("{d} {} {y}", MONTHS[m as usize - 1])
        }
        _ => return t.to_owned(),
    };
    if t.len() == 10 {
        return date;
    }
    match (
        b.get(10),
        b.get(13),
        digits(11..13),
        digits(14..16),
        t.ends_with('Z'),
    ) {
        (Some(b'T'), Some(b':'), Some(h @ 0..=23), Some(mi @ 0..=59), true) => {
            format!("{date} at {h:02}:{mi:02} UTC")
        }
        _ => t.to_owned(),
    }
}

/// Text with line breaks, as lines (the template joins them with `<br>`).
pub fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_query_round_trips_through_its_url() {
        let f = fields(&[
            ("view", "all"),
            ("status", "new"),
            ("status", "closed"),
            ("category", "drugs"),
            ("priority", "high"),
            ("from", "2026-12-01"),
            ("to", "2026-12-07"),
            ("assignee", NOBODY),
            ("language", "cy"),
            ("flagged", "yes"),
            ("label", "flood"),
            ("q", "AB12 CDE"),
            ("sort", "priority"),
            ("dir", "asc"),
            ("page", "3"),
        ]);
        let (q, errors) = parse_query(&f, View::NewUnassigned);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(q.view, View::All);
        assert_eq!(q.statuses, vec![Status::New, Status::Closed]);
        assert_eq!(q.assignee, Some(AssigneeFilter::Nobody));
        assert_eq!(q.flagged, Some(true));
        assert_eq!(q.search.as_deref(), Some("AB12 CDE"));
        let url = href("/", &params(&q, View::NewUnassigned, true));
        let back = Fields(serde_urlencoded::from_str(url.trim_start_matches("/?")).unwrap());
        let (q2, _) = parse_query(&back, View::NewUnassigned);
        assert_eq!(q, q2);
    }

    #[test]
    fn defaults_make_a_bare_url_and_bad_days_are_errors_beside_their_field() {
        let (q, errors) = parse_query(&fields(&[]), View::NewUnassigned);
        assert_eq!(
            q,
            QueueQuery {
                page: 1,
                ..QueueQuery::default()
            }
        );
        assert!(errors.is_empty());
        assert_eq!(href("/", &params(&q, View::NewUnassigned, true)), "/");
        let (q, errors) = parse_query(
            &fields(&[("from", "7 December"), ("to", "2026-12-07")]),
            View::All,
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "from");
        assert_eq!(q.received_from, None);
        assert_eq!(q.received_to.as_deref(), Some("2026-12-07"));
    }

    #[test]
    fn a_search_too_long_is_an_error_on_the_search_box() {
        let long = "word ".repeat(60);
        let (q, errors) = parse_query(&fields(&[("q", &long)]), View::All);
        assert_eq!(q.search, None);
        assert_eq!(errors[0].0, "q");
    }

    #[test]
    fn lang_attributes_are_tags_or_undetermined() {
        assert_eq!(lang_attr("cy").as_deref(), Some("cy"));
        assert_eq!(lang_attr("en-GB").as_deref(), Some("en-GB"));
        assert_eq!(lang_attr(""), None);
        assert_eq!(lang_attr("\"><x"), None);
    }

    #[test]
    fn times_as_people_read_them() {
        assert_eq!(when("2026-12-07T10:01:00Z"), "7 December 2026 at 10:01 UTC");
        assert_eq!(when("2026-01-31"), "31 January 2026");
        assert_eq!(when(""), "");
        assert_eq!(when("2026-13-01"), "2026-13-01");
        assert_eq!(
            when("2026-12-07T10:01:00+01:00"),
            "2026-12-07T10:01:00+01:00"
        );
    }

    #[test]
    fn pagination_shows_ends_and_neighbours() {
        let q = QueueQuery::default();
        let p = pagination(&q, "/", View::NewUnassigned, 5, 10);
        let numbers: Vec<u32> = p.iter().map(|l| l.number).collect();
        assert_eq!(numbers, vec![1, 0, 3, 4, 5, 6, 7, 0, 10]);
        assert!(p.iter().any(|l| l.current && l.number == 5));
        assert_eq!(p[0].href, "/");
        assert_eq!(p[2].href, "/?page=3");
    }
}
