//! One case (`/cases/{id}`): the report in full, its state with the forms
//! that change it (status, take, assign, priority, labels, mute, mark
//! unread), the timeline in the order the desk learned of things, who has
//! seen it, the note and reply forms; and the export form with its REQUIRED
//! reason (`/cases/{id}/export`), which answers a download.
//!
//! Each form posts to its own path and comes back to the case with `303`;
//! a refusal in words (`DeskError::Invalid`) shows the case again with the
//! message beside the field. It does not decide what a change is or who may
//! make it (the library's `Desk::act`, `note`, `export` do).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use quietline_casework::desk::{
    Action, CaseView, DeskError, ExportFormat, Priority, Status, TimelineEvent, TimelineItem,
};

use super::view::{self, Opt, Tag};
use super::{Fields, case_id_ok, desk_error, see_other};
use crate::AppState;
use crate::pages::{Layout, Section, render};
use crate::security::CurrentHandler;

/// A labelled value of the report.
pub(crate) struct FieldView {
    pub label: String,
    pub lines: Vec<String>,
}

/// One item of the timeline.
pub(crate) struct EventView {
    /// `event-N` anchor.
    pub anchor: String,
    pub title: String,
    pub by: String,
    /// As people read it.
    pub at: String,
    /// As given (RFC 3339 or a day), for `<time datetime>`.
    pub datetime: String,
    pub lines: Vec<String>,
    /// A line under the text (slot, the reporter's clock, …).
    pub note: Option<String>,
    /// Extra fields (another report in the thread).
    pub fields: Vec<FieldView>,
    /// The `lang` of the text (a reporter's message, a reply), if known.
    pub lang: Option<String>,
}

/// What the reply form shows (also on the reply page).
pub(crate) struct ReplyFormView {
    pub text: String,
    pub langs: Vec<Opt>,
    pub templates: Vec<Opt>,
    pub seen: u32,
    pub from: String,
}

#[derive(Template)]
#[template(path = "work/case.html")]
pub(crate) struct CaseTemplate {
    pub layout: Layout,
    pub notice: Option<&'static str>,
    pub case_id: String,
    pub short_id: String,
    pub received: String,
    pub sent_at: String,
    pub language: String,
    /// The report's language tag, for the `lang` of its words.
    pub lang: Option<String>,
    /// "Drugs, received 2026-12-07".
    pub heading: String,
    pub thread: String,
    pub fields: Vec<FieldView>,
    /// The case's attachments (issue 19).
    pub attachment_list: Vec<super::attachments::AttachmentView>,
    pub status: Tag,
    pub priority: Tag,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub muted: bool,
    pub flag: Option<String>,
    pub timeline: Vec<EventView>,
    pub seen_by: Vec<(String, bool)>,
    pub reply_blocked: Option<String>,
    pub mine: bool,
    pub supervisor: bool,
    pub statuses: Vec<Opt>,
    pub priorities: Vec<Opt>,
    pub note_text: String,
    pub label_text: String,
    /// The assign list (supervisors): nobody, then the active accounts.
    pub assignees: Vec<Opt>,
    pub reply: ReplyFormView,
    /// Grading, THRIVE and the response target (`work/intel/summary.html`).
    pub intel: super::intel::IntelSummary,
    /// Transferred to or from another force (`work/transfer/summary.html`).
    pub transfer: super::transfer::TransferSummary,
}

/// What a re-shown case page keeps of the form that was refused.
#[derive(Default)]
pub(crate) struct Kept {
    pub errors: Vec<(&'static str, String)>,
    pub note_text: String,
    pub label_text: String,
    pub assign_to: String,
    pub reply_text: String,
    pub reply_lang: Option<String>,
    pub notice: Option<&'static str>,
}

/// The language the reply form starts in for a report in `tag`: Welsh for
/// a Welsh report, else English (the templates' two languages).
pub(crate) fn default_reply_lang(tag: &str) -> &'static str {
    if tag.to_ascii_lowercase().starts_with("cy") {
        "cy"
    } else {
        "en"
    }
}

/// The reply form's choices for the case.
pub(crate) fn reply_form_view(
    app: &AppState,
    report_lang: &str,
    text: String,
    lang: Option<&str>,
    seen: u32,
    from: String,
) -> ReplyFormView {
    let default = default_reply_lang(report_lang);
    let lang = lang.unwrap_or(default);
    let mut templates = app.desk.reply_templates().unwrap_or_default();
    // The report's language's templates first, as the library orders them.
    templates.sort_by_key(|t| t.lang != default);
    ReplyFormView {
        text,
        langs: vec![
            Opt::new("en", "English", lang == "en"),
            Opt::new("cy", "Welsh (Cymraeg)", lang == "cy"),
        ],
        templates: templates
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Opt::new(
                    i.to_string(),
                    format!("{} ({})", t.name, super::queue::language_name(&t.lang)),
                    false,
                )
            })
            .collect(),
        seen,
        from,
    }
}

fn event_view(item: &TimelineItem) -> EventView {
    let by = item.by.clone().unwrap_or_else(|| "the reporter".to_owned());
    let mut note = None;
    let mut lines = Vec::new();
    let mut fields = Vec::new();
    let mut lang = None;
    let title = match &item.event {
        TimelineEvent::FollowUp {
            message,
            sent_at,
            language,
            while_muted,
            ..
        } => {
            lines = view::lines(message);
            lang = view::lang_attr(language);
            note = Some(format!(
                "Reporter's clock when sent: {sent_at} (not used for the order). Language: {}.{}",
                super::queue::language_name(language),
                if *while_muted {
                    " Arrived while the case was muted."
                } else {
                    ""
                }
            ));
            "Follow-up from the reporter".to_owned()
        }
        TimelineEvent::Report { fields: f, .. } => {
            fields = f
                .iter()
                .map(|x| FieldView {
                    label: x.label.clone(),
                    lines: view::lines(&x.value),
                })
                .collect();
            "Another report in the same thread".to_owned()
        }
        TimelineEvent::Reply {
            slot,
            from,
            language,
            message,
        } => {
            lines = view::lines(message);
            lang = language.as_deref().and_then(view::lang_attr);
            note = Some(format!(
                "Signed “{from}”, reply {}{}.",
                slot + 1,
                language
                    .as_deref()
                    .map(|l| format!(", in {}", super::queue::language_name(l)))
                    .unwrap_or_default()
            ));
            "Reply sent to the reporter".to_owned()
        }
        TimelineEvent::Note { text } => {
            lines = view::lines(text);
            "Note (internal, not sent)".to_owned()
        }
        TimelineEvent::Status { status } => {
            format!("Status set to {}", view::status_tag(*status).text)
        }
        TimelineEvent::Reopened => "Re-opened by a follow-up".to_owned(),
        TimelineEvent::Assigned { to: Some(a) } => format!("Assigned to {a}"),
        TimelineEvent::Assigned { to: None } => "Unassigned".to_owned(),
        TimelineEvent::Priority { priority } => {
            format!("Priority set to {}", view::priority_tag(*priority).text)
        }
        TimelineEvent::Labels { added, removed } => {
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("added {}", added.join(", ")));
            }
            if !removed.is_empty() {
                parts.push(format!("removed {}", removed.join(", ")));
            }
            format!("Labels {}", parts.join("; "))
        }
        TimelineEvent::Muted { muted: true } => "Muted".to_owned(),
        TimelineEvent::Muted { muted: false } => "Unmuted".to_owned(),
        TimelineEvent::Graded { grading, reason } => {
            lines = super::intel::graded_lines(grading, reason.as_deref());
            format!("Graded {}", grading.code())
        }
        TimelineEvent::Thrive { reassessment } => super::intel::thrive_title(*reassessment),
        TimelineEvent::IntelReport { reference, .. } => {
            format!("Sanitised intelligence report {reference} written")
        }
        TimelineEvent::Retained {
            next_review,
            reason,
        } => {
            lines = vec![format!("Reason: {reason}")];
            format!("Retention review: kept until {next_review}")
        }
        TimelineEvent::Disclosed { partner, reference } => {
            format!("{reference} disclosed to {partner}")
        }
        TimelineEvent::Transferred { to_name } => format!("Transferred to {to_name}"),
        TimelineEvent::Forwarded { message, to } => {
            format!(
                "Message {} passed on to force {to}",
                quietline_casework::render::short(message)
            )
        }
    };
    EventView {
        anchor: format!("event-{}", item.n),
        title,
        by,
        datetime: item.at.clone(),
        at: view::when(&item.at),
        lines,
        note,
        fields,
        lang,
    }
}

/// "Drugs, received 2026-12-07": the category in the words the reporter
/// chose (casework's labels).
fn case_heading(category: &str, received: &str) -> String {
    let words =
        quietline_casework::labels::category(category, quietline_casework::labels::Lang::En);
    let mut c = words.chars();
    let cat: String = match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => "Case".to_owned(),
    };
    format!("{cat}, received {received}")
}

fn case_template(
    app: &AppState,
    current: &CurrentHandler,
    c: CaseView,
    kept: Kept,
) -> CaseTemplate {
    let mut layout =
        Layout::signed_in(app, current, format!("Case {}", c.short_id), Section::Queue);
    for (field, message) in kept.errors {
        layout = layout.error(field, message);
    }
    let from = app.settings.force_name.clone();
    let reply = reply_form_view(
        app,
        &c.language,
        kept.reply_text,
        kept.reply_lang.as_deref(),
        c.replies,
        from,
    );
    let heading = case_heading(&c.category, &c.received);
    let intel = super::intel::summary(&c.intel);
    let transfer = super::transfer::summary(&c.transfer);
    CaseTemplate {
        intel,
        transfer,
        layout,
        heading,
        notice: kept.notice,
        mine: c.assignee.as_deref() == Some(current.handler.account.as_str()),
        supervisor: current.handler.role.supervises(),
        statuses: Status::ALL
            .iter()
            .map(|s| Opt::new(s.as_str(), view::status_tag(*s).text, *s == c.status))
            .collect(),
        priorities: view::PRIORITIES
            .iter()
            .map(|p| Opt::new(p.as_str(), view::priority_tag(*p).text, *p == c.priority))
            .collect(),
        status: view::status_tag(c.status),
        priority: view::priority_tag(c.priority),
        case_id: c.case_id,
        short_id: c.short_id,
        received: c.received,
        sent_at: c.sent_at,
        language: super::queue::language_name(&c.language),
        lang: view::lang_attr(&c.language),
        thread: c.thread,
        fields: c
            .fields
            .iter()
            .map(|f| FieldView {
                label: f.label.clone(),
                lines: view::lines(&f.value),
            })
            .collect(),
        attachment_list: c
            .attachment_list
            .iter()
            .map(super::attachments::view)
            .collect(),
        assignee: c.assignee,
        labels: c.labels,
        muted: c.muted,
        flag: c.flag.as_ref().map(view::flag_text),
        timeline: c.timeline.iter().map(event_view).collect(),
        seen_by: c
            .seen_by
            .into_iter()
            .map(|s| (s.account, s.current))
            .collect(),
        reply_blocked: c.reply_blocked,
        note_text: kept.note_text,
        label_text: kept.label_text,
        assignees: Vec::new(),
        reply,
    }
}

/// The case page for `id` (audited and marked seen by the library), with
/// what a refused form kept.
pub(crate) async fn case_page(
    app: &AppState,
    current: &CurrentHandler,
    id: &str,
    kept: Kept,
    status: StatusCode,
) -> Response {
    if !case_id_ok(id) {
        return desk_error(app, current, DeskError::NoSuchCase(id.to_owned()));
    }
    match app.desk.case(&current.handler, id).await {
        Ok(c) => {
            let assignee = c.assignee.clone();
            let chosen = (!kept.assign_to.is_empty()).then(|| kept.assign_to.clone());
            let mut t = case_template(app, current, c, kept);
            if t.supervisor {
                t.assignees =
                    super::queue::assign_options(app, assignee.as_deref(), chosen.as_deref()).await;
            }
            render(status, &t)
        }
        Err(e) => desk_error(app, current, e),
    }
}

/// The notices a case page shows after a change (`?done=`): fixed words,
/// nothing from the request is echoed.
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "status" => "The status is changed.",
        "taken" => "The case is yours.",
        "assigned" => "The assignment is changed.",
        "priority" => "The priority is changed.",
        "labels" => "The labels are changed.",
        "muted" => "The case is muted: its follow-ups will arrive flagged, not as new work.",
        "unmuted" => "The case is no longer muted.",
        "note" => "Your note is added.",
        "replied" => {
            "Your reply was sent. The reporter will read it when they next check with their 12 words."
        }
        "unchanged" => "Nothing changed: the case was already so.",
        "graded" => "The grading is saved.",
        "triaged" => "The THRIVE assessment and priority are saved.",
        "transferred" => {
            "The case is transferred: the other force has it, and it is closed here as transferred."
        }
        _ => return None,
    })
}

/// `GET /cases/{id}`.
pub(crate) async fn show(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Query(f): Query<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let kept = Kept {
        notice: notice(f.get("done")),
        ..Kept::default()
    };
    case_page(&app, &current, &id, kept, StatusCode::OK).await
}

/// Apply `action`, then back to the case; a refusal in words is shown
/// beside `field`.
async fn act(
    app: AppState,
    current: CurrentHandler,
    id: String,
    action: Result<Action, String>,
    field: &'static str,
    done: &'static str,
    mut kept: Kept,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let action = match action {
        Ok(a) => a,
        Err(message) => {
            kept.errors.push((field, message));
            return case_page(&app, &current, &id, kept, StatusCode::BAD_REQUEST).await;
        }
    };
    match app.desk.act(&current.handler, &id, &action).await {
        Ok(true) => see_other(&format!("/cases/{id}?done={done}")),
        Ok(false) => see_other(&format!("/cases/{id}?done=unchanged")),
        Err(DeskError::Invalid(m)) => {
            kept.errors.push((field, super::capitalised(&m)));
            case_page(&app, &current, &id, kept, StatusCode::BAD_REQUEST).await
        }
        Err(e) => desk_error(&app, &current, e),
    }
}

/// `POST /cases/{id}/status` (`status`).
pub(crate) async fn status(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let action = f
        .get("status")
        .and_then(Status::from_name)
        .map(Action::Status)
        .ok_or_else(|| "Choose a status".to_owned());
    act(
        app,
        current,
        id,
        action,
        "status",
        "status",
        Kept::default(),
    )
    .await
}

/// `POST /cases/{id}/take`.
pub(crate) async fn take(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
) -> Response {
    act(
        app,
        current,
        id,
        Ok(Action::Take),
        "take",
        "taken",
        Kept::default(),
    )
    .await
}

/// `POST /cases/{id}/assign` (`to`: an account, or empty for nobody).
pub(crate) async fn assign(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let to = f.get("to").map(str::to_owned);
    let kept = Kept {
        assign_to: to.clone().unwrap_or_default(),
        ..Kept::default()
    };
    act(
        app,
        current,
        id,
        Ok(Action::Assign(to)),
        "assign-to",
        "assigned",
        kept,
    )
    .await
}

/// `POST /cases/{id}/priority` (`priority`).
pub(crate) async fn priority(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let action = f
        .get("priority")
        .and_then(Priority::from_name)
        .map(Action::Priority)
        .ok_or_else(|| "Choose a priority".to_owned());
    act(
        app,
        current,
        id,
        action,
        "priority",
        "priority",
        Kept::default(),
    )
    .await
}

/// `POST /cases/{id}/labels` (`add`, and/or `remove`).
pub(crate) async fn labels(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let add: Vec<String> = f.all("add").into_iter().map(str::to_owned).collect();
    let remove: Vec<String> = f.all("remove").into_iter().map(str::to_owned).collect();
    let kept = Kept {
        label_text: f.raw("add").to_owned(),
        ..Kept::default()
    };
    let action = if add.is_empty() && remove.is_empty() {
        Err("Enter a label to add".to_owned())
    } else {
        Ok(Action::Label { add, remove })
    };
    act(app, current, id, action, "add-label", "labels", kept).await
}

/// `POST /cases/{id}/mute` (`muted`: `yes` or `no`).
pub(crate) async fn mute(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let muted = f.get("muted") == Some("yes");
    act(
        app,
        current,
        id,
        Ok(Action::Mute(muted)),
        "mute",
        if muted { "muted" } else { "unmuted" },
        Kept::default(),
    )
    .await
}

/// `POST /cases/{id}/unread`: back to the queue (opening the case again
/// would mark it seen).
pub(crate) async fn unread(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    match app.desk.mark_unread(&current.handler, &id).await {
        Ok(()) => crate::security::see_other("/"),
        Err(e) => desk_error(&app, &current, e),
    }
}

/// `POST /cases/{id}/note` (`note`).
pub(crate) async fn note(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let text = f.raw("note").to_owned();
    match app.desk.note(&current.handler, &id, &text).await {
        Ok(()) => see_other(&format!("/cases/{id}?done=note#timeline")),
        Err(DeskError::Invalid(m)) => {
            let kept = Kept {
                errors: vec![("note", super::capitalised(&m))],
                note_text: text,
                ..Kept::default()
            };
            case_page(&app, &current, &id, kept, StatusCode::BAD_REQUEST).await
        }
        Err(e) => desk_error(&app, &current, e),
    }
}

#[derive(Template)]
#[template(path = "work/export.html")]
struct ExportTemplate {
    layout: Layout,
    case_id: String,
    reason: String,
    json: bool,
}

fn export_page(
    app: &AppState,
    current: &CurrentHandler,
    id: &str,
    reason: String,
    json: bool,
    error: Option<(&'static str, String)>,
) -> Response {
    let mut layout = Layout::signed_in(app, current, "Export a case", Section::Queue);
    let status = match error {
        Some((field, m)) => {
            layout = layout.error(field, m);
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    };
    render(
        status,
        &ExportTemplate {
            layout,
            case_id: id.to_owned(),
            reason,
            json,
        },
    )
}

/// `GET /cases/{id}/export`: the form (format, reason).
pub(crate) async fn export_form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    // Raw export is a supervisor's: a handler gets the 403 page, not the form.
    if let Err(e) = quietline_casework::desk::export::check_may_export(&current.handler) {
        return desk_error(&app, &current, e);
    }
    export_page(&app, &current, &id, String::new(), true, None)
}

/// `POST /cases/{id}/export` (`format`: `json` or `html`; `reason`): the
/// file as a download (the printable HTML page too: opened from disk it
/// carries its own CSP), or the form again with the error.
pub(crate) async fn export(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    if let Err(e) = quietline_casework::desk::export::check_may_export(&current.handler) {
        return desk_error(&app, &current, e);
    }
    let reason = f.raw("reason").to_owned();
    let format = match f.get("format") {
        Some("json") => ExportFormat::Json,
        Some("html") => ExportFormat::Html,
        _ => {
            return export_page(
                &app,
                &current,
                &id,
                reason,
                true,
                Some(("format", "Choose JSON or a printable page".to_owned())),
            );
        }
    };
    match app
        .desk
        .export(&current.handler, &id, format, &reason)
        .await
    {
        Ok(e) => super::download(&e.body, e.media_type, &e.file_name),
        Err(DeskError::Invalid(m)) => export_page(
            &app,
            &current,
            &id,
            reason,
            format == ExportFormat::Json,
            Some(("reason", super::capitalised(&m))),
        ),
        Err(e) => desk_error(&app, &current, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welsh_reports_get_welsh_replies_by_default() {
        assert_eq!(default_reply_lang("cy"), "cy");
        assert_eq!(default_reply_lang("CY-GB"), "cy");
        assert_eq!(default_reply_lang("en"), "en");
        assert_eq!(default_reply_lang("pl"), "en");
    }

    #[test]
    fn notices_are_fixed_words() {
        assert!(notice(Some("note")).is_some());
        assert_eq!(notice(Some("<script>")), None);
        assert_eq!(notice(None), None);
    }
}
