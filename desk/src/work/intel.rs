//! The intelligence pages of a case (issue 17): grading 3x5x2
//! (`/cases/{id}/grade`) and triage with THRIVE and priority
//! (`/cases/{id}/triage`), each with its history; and the summary the case
//! page and the queue show (grading as `2 B P`, the response target's time
//! left, overdue flagged). Labels and hints are in English with the Welsh
//! beside them (`lang="cy"`), as the library words them.
//!
//! It owns these URLs, their form fields and turning the library's answers
//! into pages. It does NOT decide what a valid grading or assessment is, who
//! may make one, what is audited, or when a case is overdue: those are the
//! casework library's (`quietline_casework::intel`, `Desk::grade`,
//! `Desk::triage`). Reading the case for these pages is `Desk::case`
//! (audited `show`, marks it seen).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use quietline_casework::desk::{CaseIntel, CaseView, DeskError, ExportFormat, Priority};
use quietline_casework::intel::grading::{self, GradingInput, part_label};
use quietline_casework::intel::report::{self, Marking, ReportDraft};
use quietline_casework::intel::thrive::{self, FIELDS};
use quietline_casework::intel::{Assessment, Due, HandlingCode, Lang, SourceEvaluation, Thrive};

use super::view::{self, Opt};
use super::{Fields, case_id_ok, desk_error, see_other};
use crate::AppState;
use crate::pages::{Layout, Section, render};
use crate::security::CurrentHandler;

/// The summary on the case page and the intel pages.
pub(crate) struct IntelSummary {
    /// `2 B P`, if graded.
    pub code: Option<String>,
    /// The grading in words.
    pub words: Option<String>,
    /// The conditions of a C.
    pub conditions: Option<String>,
    /// THRIVE assessments made.
    pub thrives: usize,
    /// "45 minutes left", "overdue by 2 hours", "target met".
    pub due: Option<String>,
    /// Due at, as people read it.
    pub due_at: Option<String>,
    /// Overdue.
    pub overdue: bool,
    /// The retention review (closed cases): day, whether due, the rule.
    pub review: Option<ReviewView>,
    /// Disclosures to partners, oldest first.
    pub disclosures: Vec<DisclosureView>,
}

/// A closed case's retention review, for the page.
pub(crate) struct ReviewView {
    /// `YYYY-MM-DD`.
    pub review_on: String,
    pub due: bool,
    pub closed_on: String,
    /// "6 years after closure (the force's default)", or the review's date.
    pub rule: String,
}

/// One disclosure, for the page.
pub(crate) struct DisclosureView {
    pub reference: String,
    pub partner: String,
    pub reason: String,
    pub conditions: String,
    pub by: String,
    pub at: String,
    pub datetime: String,
}

fn review_view(r: &quietline_casework::intel::Review) -> ReviewView {
    ReviewView {
        review_on: r.review_on.clone(),
        due: r.due,
        closed_on: r.closed_on.clone(),
        rule: if r.set_by_review {
            "set by a supervisor's retention review".to_owned()
        } else {
            r.rule.words()
        },
    }
}

use quietline_casework::intel::targets::rfc3339_of as rfc3339;

/// The summary of a case's intelligence handling.
pub(crate) fn summary(intel: &CaseIntel) -> IntelSummary {
    let g = intel.grading();
    IntelSummary {
        code: g.map(|g| g.code()),
        words: g.map(|g| g.words(Lang::En)),
        conditions: g.and_then(|g| g.conditions.clone()),
        thrives: intel.thrives.len(),
        due: intel.due.as_ref().map(Due::words),
        due_at: intel.due.as_ref().map(|d| view::when(&rfc3339(d.due_at))),
        overdue: intel.due.as_ref().is_some_and(|d| d.overdue),
        review: intel.review.as_ref().map(review_view),
        disclosures: intel
            .disclosures
            .iter()
            .map(|d| DisclosureView {
                reference: d.reference.clone(),
                partner: d.partner.clone(),
                reason: d.reason.clone(),
                conditions: d.conditions.clone(),
                by: d.by.clone(),
                at: view::when(&d.at),
                datetime: d.at.clone(),
            })
            .collect(),
    }
}

/// The timeline's lines for a grading.
pub(crate) fn graded_lines(
    g: &quietline_casework::intel::Grading,
    reason: Option<&str>,
) -> Vec<String> {
    let mut v = vec![g.words(Lang::En)];
    if let Some(c) = &g.conditions {
        v.push(format!("Conditions: {c}"));
    }
    if let Some(r) = reason {
        v.push(format!("Reason: {r}"));
    }
    v
}

/// The timeline's title for an assessment.
pub(crate) fn thrive_title(reassessment: bool) -> String {
    if reassessment {
        "RE-THRIVE assessment (see Triage)".to_owned()
    } else {
        "THRIVE assessment at triage (see Triage)".to_owned()
    }
}

/// A choice with its label and hint in English and Welsh.
pub(crate) struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub label_cy: &'static str,
    pub hint_cy: &'static str,
    pub on: bool,
}

/// One grading of the history, for the page.
pub(crate) struct GradingRow {
    pub code: String,
    pub words: String,
    pub conditions: Option<String>,
    pub reason: Option<String>,
    pub by: String,
    pub at: String,
    pub datetime: String,
}

#[derive(Template)]
#[template(path = "work/intel/grade.html")]
struct GradeTemplate {
    layout: Layout,
    case_id: String,
    short_id: String,
    summary: IntelSummary,
    groups: Vec<Group>,
    labels: [(&'static str, &'static str); 5],
    conditions: String,
    reason: String,
    history: Vec<GradingRow>,
}

fn grade_page(
    app: &AppState,
    current: &CurrentHandler,
    c: &CaseView,
    input: &GradingInput,
    errors: Vec<(&'static str, String)>,
) -> Response {
    let mut layout = Layout::signed_in(
        app,
        current,
        format!("Grade case {}", c.short_id),
        Section::Queue,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    for (f, m) in errors {
        layout = layout.error(f, m);
    }
    let now = c.intel.grading();
    // The form starts at the current grading, or at 2 (an anonymous report).
    let source = if input.source.is_empty() {
        now.map(|g| g.source)
            .unwrap_or(grading::ANONYMOUS_SOURCE)
            .code()
            .to_owned()
    } else {
        input.source.clone()
    };
    let assessment = if input.assessment.is_empty() {
        now.map(|g| g.assessment.code().to_owned())
            .unwrap_or_default()
    } else {
        input.assessment.to_ascii_uppercase()
    };
    let handling = if input.handling.is_empty() {
        now.map(|g| g.handling.code().to_owned())
            .unwrap_or_default()
    } else {
        input.handling.to_ascii_uppercase()
    };
    let sources: Vec<Choice> = SourceEvaluation::ALL
        .iter()
        .map(|s| Choice {
            value: s.code(),
            label: s.label(Lang::En),
            hint: s.hint(Lang::En),
            label_cy: s.label(Lang::Cy),
            hint_cy: s.hint(Lang::Cy),
            on: s.code() == source,
        })
        .collect();
    let assessments: Vec<Choice> = Assessment::ALL
        .iter()
        .map(|a| Choice {
            value: a.code(),
            label: a.label(Lang::En),
            hint: a.hint(Lang::En),
            label_cy: a.label(Lang::Cy),
            hint_cy: a.hint(Lang::Cy),
            on: a.code() == assessment,
        })
        .collect();
    let handlings: Vec<Choice> = HandlingCode::ALL
        .iter()
        .map(|h| Choice {
            value: h.code(),
            label: h.label(Lang::En),
            hint: h.hint(Lang::En),
            label_cy: h.label(Lang::Cy),
            hint_cy: h.hint(Lang::Cy),
            on: h.code() == handling,
        })
        .collect();
    let page = GradeTemplate {
        layout,
        case_id: c.case_id.clone(),
        short_id: c.short_id.clone(),
        summary: summary(&c.intel),
        groups: vec![
            Group::new("source", sources),
            Group::new("assessment", assessments),
            Group::new("handling", handlings),
        ],
        labels: ["source", "assessment", "handling", "conditions", "reason"]
            .map(|p| (part_label(p, Lang::En), part_label(p, Lang::Cy))),
        conditions: input.conditions.clone(),
        reason: input.reason.clone(),
        history: c
            .intel
            .gradings
            .iter()
            .rev()
            .map(|g| GradingRow {
                code: g.grading.code(),
                words: g.grading.words(Lang::En),
                conditions: g.grading.conditions.clone(),
                reason: g.reason.clone(),
                by: g.by.clone(),
                at: view::when(&g.at),
                datetime: g.at.clone(),
            })
            .collect(),
    };
    render(status, &page)
}

/// One radio group of the grading form.
pub(crate) struct Group {
    pub name: &'static str,
    pub legend: &'static str,
    pub legend_cy: &'static str,
    pub choices: Vec<Choice>,
}

impl Group {
    fn new(name: &'static str, choices: Vec<Choice>) -> Group {
        Group {
            name,
            legend: part_label(name, Lang::En),
            legend_cy: part_label(name, Lang::Cy),
            choices,
        }
    }
}

async fn the_case(
    app: &AppState,
    current: &CurrentHandler,
    id: &str,
) -> Result<CaseView, Response> {
    if !case_id_ok(id) {
        return Err(desk_error(
            app,
            current,
            DeskError::NoSuchCase(id.to_owned()),
        ));
    }
    app.desk
        .case(&current.handler, id)
        .await
        .map_err(|e| desk_error(app, current, e))
}

/// `GET /cases/{id}/grade`.
pub(crate) async fn grade_form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
) -> Response {
    match the_case(&app, &current, &id).await {
        Ok(c) => grade_page(&app, &current, &c, &GradingInput::default(), Vec::new()),
        Err(r) => r,
    }
}

/// `POST /cases/{id}/grade` (`source`, `assessment`, `handling`,
/// `conditions`, `reason`).
pub(crate) async fn grade(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let input = GradingInput {
        source: f.raw("source").trim().to_owned(),
        assessment: f.raw("assessment").trim().to_owned(),
        handling: f.raw("handling").trim().to_owned(),
        conditions: f.raw("conditions").to_owned(),
        reason: f.raw("reason").to_owned(),
    };
    let c = match the_case(&app, &current, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // The library's rule, field by field, so each message sits by its field;
    // `Desk::grade` checks again and decides.
    if let Err(errors) = grading::check(c.intel.grading(), &input) {
        return grade_page(&app, &current, &c, &input, errors);
    }
    match app.desk.grade(&current.handler, &c.case_id, &input).await {
        Ok(true) => see_other(&format!("/cases/{}?done=graded", c.case_id)),
        Ok(false) => see_other(&format!("/cases/{}?done=unchanged", c.case_id)),
        Err(DeskError::Invalid(m)) => grade_page(
            &app,
            &current,
            &c,
            &input,
            vec![("source", super::capitalised(&m))],
        ),
        Err(e) => desk_error(&app, &current, e),
    }
}

/// One THRIVE field of the form.
pub(crate) struct ThriveField {
    pub key: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub label_cy: &'static str,
    pub hint_cy: &'static str,
    pub value: String,
}

/// One assessment of the history.
pub(crate) struct ThriveRow {
    pub title: &'static str,
    pub by: String,
    pub at: String,
    pub datetime: String,
    pub fields: Vec<(&'static str, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "work/intel/triage.html")]
struct TriageTemplate {
    layout: Layout,
    case_id: String,
    short_id: String,
    summary: IntelSummary,
    reassessment: bool,
    fields: Vec<ThriveField>,
    priorities: Vec<Opt>,
    targets: Vec<(String, String)>,
    history: Vec<ThriveRow>,
}

impl TriageTemplate {
    /// A priority's words in Welsh, beside the English.
    fn priority_cy(&self, value: &str) -> Option<&'static str> {
        match Priority::from_name(value)? {
            Priority::High => {
                Some("Uchel: bygythiad i fywyd, niwed difrifol, risg neu gyfle ar fin digwydd")
            }
            Priority::Medium => Some("Canolig: mae amser yn hollbwysig"),
            Priority::Low => Some("Isel: pob un arall"),
        }
    }
}

fn priority_words(p: Priority) -> &'static str {
    match p {
        Priority::High => "threat to life, serious harm, imminent risk or opportunity",
        Priority::Medium => "time-critical",
        Priority::Low => "all other",
    }
}

fn triage_page(
    app: &AppState,
    current: &CurrentHandler,
    c: &CaseView,
    input: Option<(&Thrive, Option<Priority>)>,
    errors: Vec<(&'static str, String)>,
) -> Response {
    let mut layout = Layout::signed_in(
        app,
        current,
        format!("Triage case {}", c.short_id),
        Section::Queue,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    for (f, m) in errors {
        layout = layout.error(f, m);
    }
    // A RE-THRIVE starts from the latest assessment: the handler changes
    // what changed, and a new entry is written.
    let start = c
        .intel
        .thrive()
        .map(|e| e.thrive.clone())
        .unwrap_or_default();
    let shown = input.map(|(t, _)| t).unwrap_or(&start);
    let priority = input.and_then(|(_, p)| p).unwrap_or(c.priority);
    let targets = app.desk.response_targets().unwrap_or_default();
    let page = TriageTemplate {
        layout,
        case_id: c.case_id.clone(),
        short_id: c.short_id.clone(),
        summary: summary(&c.intel),
        reassessment: !c.intel.thrives.is_empty(),
        fields: shown
            .fields()
            .into_iter()
            .map(|(key, value)| ThriveField {
                key,
                label: thrive::label(key, Lang::En),
                hint: thrive::hint(key, Lang::En),
                label_cy: thrive::label(key, Lang::Cy),
                hint_cy: thrive::hint(key, Lang::Cy),
                value: value.to_owned(),
            })
            .collect(),
        priorities: view::PRIORITIES
            .iter()
            .map(|p| {
                Opt::new(
                    p.as_str(),
                    format!("{} ({})", view::priority_tag(*p).text, priority_words(*p)),
                    *p == priority,
                )
            })
            .collect(),
        targets: view::PRIORITIES
            .iter()
            .map(|p| {
                (
                    view::priority_tag(*p).text.to_owned(),
                    quietline_casework::intel::targets::duration_words(targets.for_priority(*p)),
                )
            })
            .collect(),
        history: c
            .intel
            .thrives
            .iter()
            .rev()
            .map(|e| ThriveRow {
                title: if e.reassessment {
                    "RE-THRIVE"
                } else {
                    "THRIVE"
                },
                by: e.by.clone(),
                at: view::when(&e.at),
                datetime: e.at.clone(),
                fields: e
                    .thrive
                    .fields()
                    .into_iter()
                    .map(|(k, v)| (thrive::label(k, Lang::En), view::lines(v)))
                    .collect(),
            })
            .collect(),
    };
    render(status, &page)
}

/// `GET /cases/{id}/triage`.
pub(crate) async fn triage_form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
) -> Response {
    match the_case(&app, &current, &id).await {
        Ok(c) => triage_page(&app, &current, &c, None, Vec::new()),
        Err(r) => r,
    }
}

/// `POST /cases/{id}/triage` (the six THRIVE fields by name, `priority`).
pub(crate) async fn triage(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(f);
    let mut t = Thrive::default();
    for k in FIELDS {
        t.set(k, f.raw(k));
    }
    let priority = f.get("priority").and_then(Priority::from_name);
    let c = match the_case(&app, &current, &id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut errors = match t.check() {
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    if priority.is_none() {
        errors.push(("priority", "Choose a priority".to_owned()));
    }
    let Some(p) = priority.filter(|_| errors.is_empty()) else {
        return triage_page(&app, &current, &c, Some((&t, priority)), errors);
    };
    match app.desk.triage(&current.handler, &c.case_id, &t, p).await {
        Ok(_) => see_other(&format!("/cases/{}?done=triaged", c.case_id)),
        Err(DeskError::Invalid(m)) => triage_page(
            &app,
            &current,
            &c,
            Some((&t, priority)),
            vec![("threat", super::capitalised(&m))],
        ),
        Err(e) => desk_error(&app, &current, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_words_for_a_grading() {
        let g = quietline_casework::intel::Grading {
            source: SourceEvaluation::Untested,
            assessment: Assessment::B,
            handling: HandlingCode::C,
            conditions: Some("Not outside the FIB".into()),
        };
        let lines = graded_lines(&g, Some("corroborated"));
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("Untested (2)"));
        assert_eq!(lines[2], "Reason: corroborated");
        assert!(rfc3339(1_796_601_599).starts_with("2026-12-06T23:59:59"));
        assert!(thrive_title(true).starts_with("RE-THRIVE"));
    }
}

/// A reporter's line to choose.
pub(crate) struct LineView {
    pub index: usize,
    pub from: String,
    pub text: String,
    pub on: bool,
}

/// One of the case's attachments to choose for the report (issue 19).
pub(crate) struct AttachmentChoiceView {
    /// What the case page shows of it (title, metadata removed, left and
    /// still in the file).
    pub a: super::attachments::AttachmentView,
    /// The file name the report links it by.
    pub file: String,
    /// Why it cannot be chosen (flagged, not fetched), if so.
    pub refused: Option<String>,
    /// It may still identify the source: a second confirmation is needed.
    pub needs_check: bool,
    /// Ticked.
    pub on: bool,
    /// Its confirmation ticked.
    pub checked: bool,
}

/// A written report.
pub(crate) struct WrittenView {
    pub number: u32,
    /// Its attachments: (number, file name).
    pub files: Vec<(u32, String)>,
    pub reference: String,
    pub title: String,
    pub marking: &'static str,
    pub grading: String,
    pub by: String,
    pub at: String,
    pub datetime: String,
}

#[derive(Template)]
#[template(path = "work/intel/report.html")]
struct ReportTemplate {
    layout: Layout,
    notice: Option<&'static str>,
    case_id: String,
    short_id: String,
    grading: Option<String>,
    lines: Vec<LineView>,
    attachments: Vec<AttachmentChoiceView>,
    markings: Vec<Opt>,
    title: String,
    text: String,
    written: Vec<WrittenView>,
    export_key: Option<String>,
}

fn report_page(
    app: &AppState,
    current: &CurrentHandler,
    form: quietline_casework::desk::ReportForm,
    draft: &ReportDraft,
    errors: Vec<(&'static str, String)>,
    notice: Option<&'static str>,
) -> Response {
    let mut layout = Layout::signed_in(
        app,
        current,
        format!("Intelligence report, case {}", form.short_id),
        Section::Queue,
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    for (f, m) in errors {
        layout = layout.error(f, m);
    }
    let marking = Marking::from_name(&draft.marking).unwrap_or_default();
    let attachments = form
        .attachments
        .iter()
        .zip(form.offers())
        .map(|(a, o)| AttachmentChoiceView {
            a: super::attachments::view(a),
            file: o.file,
            refused: o.refused,
            needs_check: o.needs_check,
            on: draft.attachments.contains(&a.number),
            checked: draft.checked.contains(&a.number),
        })
        .collect();
    let page = ReportTemplate {
        layout,
        notice,
        case_id: form.case_id.clone(),
        short_id: form.short_id.clone(),
        grading: form.grading.as_ref().map(|g| g.code()),
        lines: form
            .candidates
            .iter()
            .enumerate()
            .map(|(index, l)| LineView {
                index,
                from: l.from.clone(),
                text: l.text.clone(),
                on: draft.chosen.contains(&index),
            })
            .collect(),
        attachments,
        markings: Marking::ALL
            .iter()
            .map(|m| Opt::new(m.as_str(), m.as_str(), *m == marking))
            .collect(),
        title: draft.title.clone(),
        text: draft.text.clone(),
        written: form
            .reports
            .iter()
            .rev()
            .map(|r| WrittenView {
                number: r.report.number,
                files: r
                    .report
                    .attachments
                    .iter()
                    .map(|a| (a.number, a.file.clone()))
                    .collect(),
                reference: r.report.reference.clone(),
                title: r.report.title.clone(),
                marking: r.report.marking.as_str(),
                grading: r.report.grading.code(),
                by: r.by.clone(),
                at: view::when(&r.at),
                datetime: r.at.clone(),
            })
            .collect(),
        export_key: form.export_key,
    };
    render(status, &page)
}

/// `GET /cases/{id}/intel-report`: the form and the reports written.
pub(crate) async fn report_form(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let notice = match Fields(q).get("done") {
        Some("written") => Some("The sanitised intelligence report is written. Export it below."),
        _ => None,
    };
    match app.desk.intel_report_form(&current.handler, &id).await {
        Ok(form) => report_page(
            &app,
            &current,
            form,
            &ReportDraft::default(),
            Vec::new(),
            notice,
        ),
        Err(e) => desk_error(&app, &current, e),
    }
}

/// `POST /cases/{id}/intel-report` (`title`, `text`, `line` repeated,
/// `attachment` and `checked` repeated (attachment numbers), `marking`).
pub(crate) async fn write_report(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let f = Fields(f);
    let draft = ReportDraft {
        title: f.raw("title").to_owned(),
        text: f.raw("text").to_owned(),
        chosen: f
            .all("line")
            .into_iter()
            .filter_map(|n| n.parse().ok())
            .collect(),
        marking: f.raw("marking").to_owned(),
        attachments: numbers(&f, "attachment"),
        checked: numbers(&f, "checked"),
    };
    let form = match app.desk.intel_report_form(&current.handler, &id).await {
        Ok(form) => form,
        Err(e) => return desk_error(&app, &current, e),
    };
    // The library's rule, field by field; `write_intel_report` decides.
    if form.grading.is_none() {
        return report_page(
            &app,
            &current,
            form,
            &draft,
            vec![(
                "title",
                "Grade the case (3x5x2) before writing its intelligence report".to_owned(),
            )],
            None,
        );
    }
    let mut errors = report::check_draft(&draft, &form.candidates)
        .err()
        .unwrap_or_default();
    errors.extend(
        report::check_attachments(&draft, &form.offers())
            .err()
            .unwrap_or_default(),
    );
    if !errors.is_empty() {
        return report_page(&app, &current, form, &draft, errors, None);
    }
    match app
        .desk
        .write_intel_report(&current.handler, &id, &draft)
        .await
    {
        Ok(_) => see_other(&format!(
            "/cases/{}/intel-report?done=written",
            form.case_id
        )),
        Err(DeskError::Invalid(m)) => report_page(
            &app,
            &current,
            form,
            &draft,
            vec![("title", super::capitalised(&m))],
            None,
        ),
        Err(e) => desk_error(&app, &current, e),
    }
}

/// Every value of `name` that is a number.
fn numbers(f: &Fields, name: &str) -> Vec<u32> {
    f.all(name)
        .into_iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// `POST /cases/{id}/intel-report/export` (`number`, `format`): the signed
/// file as a download.
pub(crate) async fn export_report(
    State(app): State<AppState>,
    current: CurrentHandler,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    if !case_id_ok(&id) {
        return desk_error(&app, &current, DeskError::NoSuchCase(id));
    }
    let f = Fields(f);
    let number: u32 = f.get("number").and_then(|n| n.parse().ok()).unwrap_or(0);
    let format = if f.get("format") == Some("html") {
        ExportFormat::Html
    } else {
        ExportFormat::Json
    };
    match app
        .desk
        .export_intel_report(&current.handler, &id, number, format)
        .await
    {
        Ok(e) => super::download(&e.body, e.media_type, &e.file_name),
        Err(e) => desk_error(&app, &current, e),
    }
}
