//! The 3x5x2 intelligence grading (College of Policing APP "Intelligence
//! management"): a source evaluation (1 reliable, 2 untested, 3 not
//! reliable), an intelligence assessment (A to E) and a handling code (P, or
//! C with its conditions as text), written everywhere as e.g. `2 B P`.
//!
//! It owns what a valid grading is and what a change needs: an anonymous web
//! report's source starts at 2 (untested), and any grading whose source is
//! not the current one (2 before the first grading) needs a reason; C needs
//! its conditions, P takes none. It also owns the words: the labels and
//! hints in English and Welsh. It stores nothing (a grading is a sealed
//! record, [`crate::records::RecordBody::Grade`]).

use serde::{Deserialize, Serialize};

use super::{Lang, check_text};

/// The longest handling conditions or reason, in characters.
pub const MAX_GRADING_TEXT: usize = 2_000;

/// The source evaluation: how far the source can be relied on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceEvaluation {
    /// 1: reliable.
    #[serde(rename = "1")]
    Reliable,
    /// 2: untested (where an anonymous web report starts).
    #[serde(rename = "2")]
    Untested,
    /// 3: not reliable.
    #[serde(rename = "3")]
    NotReliable,
}

/// The intelligence assessment: how the source knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Assessment {
    /// A: known directly to the source.
    A,
    /// B: known indirectly to the source but corroborated.
    B,
    /// C: known indirectly to the source.
    C,
    /// D: not known.
    D,
    /// E: suspected to be false or malicious.
    E,
}

/// The handling code: whether it may be shared lawfully, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandlingCode {
    /// P: lawful sharing permitted.
    P,
    /// C: lawful sharing permitted with conditions (stated as text).
    C,
}

/// The starting source evaluation of an anonymous web report.
pub const ANONYMOUS_SOURCE: SourceEvaluation = SourceEvaluation::Untested;

impl SourceEvaluation {
    /// Every value, in order.
    pub const ALL: [SourceEvaluation; 3] = [
        SourceEvaluation::Reliable,
        SourceEvaluation::Untested,
        SourceEvaluation::NotReliable,
    ];
    /// `1`, `2` or `3`.
    pub fn code(self) -> &'static str {
        match self {
            SourceEvaluation::Reliable => "1",
            SourceEvaluation::Untested => "2",
            SourceEvaluation::NotReliable => "3",
        }
    }
    /// Parse a code written by [`SourceEvaluation::code`].
    pub fn from_code(s: &str) -> Option<SourceEvaluation> {
        SourceEvaluation::ALL
            .into_iter()
            .find(|x| x.code() == s.trim())
    }
    /// The label, in words.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (SourceEvaluation::Reliable, Lang::En) => "Reliable",
            (SourceEvaluation::Untested, Lang::En) => "Untested",
            (SourceEvaluation::NotReliable, Lang::En) => "Not reliable",
            (SourceEvaluation::Reliable, Lang::Cy) => "Dibynadwy",
            (SourceEvaluation::Untested, Lang::Cy) => "Heb ei brofi",
            (SourceEvaluation::NotReliable, Lang::Cy) => "Ddim yn ddibynadwy",
        }
    }
    /// When to choose it.
    pub fn hint(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (SourceEvaluation::Reliable, Lang::En) => {
                "The source has proved reliable in the past, or its reliability is not in doubt."
            }
            (SourceEvaluation::Untested, Lang::En) => {
                "The source is new or its reliability is not known. An anonymous web report starts here."
            }
            (SourceEvaluation::NotReliable, Lang::En) => {
                "There are doubts about the source's reliability, or it has proved unreliable."
            }
            (SourceEvaluation::Reliable, Lang::Cy) => {
                "Mae'r ffynhonnell wedi bod yn ddibynadwy yn y gorffennol, neu nid oes amheuaeth am ei dibynadwyedd."
            }
            (SourceEvaluation::Untested, Lang::Cy) => {
                "Mae'r ffynhonnell yn newydd neu nid yw ei dibynadwyedd yn hysbys. Mae adroddiad dienw ar y we yn dechrau yma."
            }
            (SourceEvaluation::NotReliable, Lang::Cy) => {
                "Mae amheuon am ddibynadwyedd y ffynhonnell, neu mae wedi bod yn annibynadwy."
            }
        }
    }
}

impl Assessment {
    /// Every value, in order.
    pub const ALL: [Assessment; 5] = [
        Assessment::A,
        Assessment::B,
        Assessment::C,
        Assessment::D,
        Assessment::E,
    ];
    /// `A` to `E`.
    pub fn code(self) -> &'static str {
        match self {
            Assessment::A => "A",
            Assessment::B => "B",
            Assessment::C => "C",
            Assessment::D => "D",
            Assessment::E => "E",
        }
    }
    /// Parse a code (either case).
    pub fn from_code(s: &str) -> Option<Assessment> {
        Assessment::ALL
            .into_iter()
            .find(|x| x.code().eq_ignore_ascii_case(s.trim()))
    }
    /// The label, in words.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Assessment::A, Lang::En) => "Known directly to the source",
            (Assessment::B, Lang::En) => "Known indirectly to the source but corroborated",
            (Assessment::C, Lang::En) => "Known indirectly to the source",
            (Assessment::D, Lang::En) => "Not known",
            (Assessment::E, Lang::En) => "Suspected to be false or malicious",
            (Assessment::A, Lang::Cy) => "Yn hysbys yn uniongyrchol i'r ffynhonnell",
            (Assessment::B, Lang::Cy) => {
                "Yn hysbys yn anuniongyrchol i'r ffynhonnell ond wedi'i gadarnhau"
            }
            (Assessment::C, Lang::Cy) => "Yn hysbys yn anuniongyrchol i'r ffynhonnell",
            (Assessment::D, Lang::Cy) => "Ddim yn hysbys",
            (Assessment::E, Lang::Cy) => "Amheuir ei fod yn ffug neu'n faleisus",
        }
    }
    /// When to choose it.
    pub fn hint(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Assessment::A, Lang::En) => "The source saw or heard it themselves.",
            (Assessment::B, Lang::En) => {
                "The source was told it, and it is backed up by other information."
            }
            (Assessment::C, Lang::En) => "The source was told it, and nothing backs it up yet.",
            (Assessment::D, Lang::En) => "How the source came to know it is not known.",
            (Assessment::E, Lang::En) => {
                "There is reason to think it is untrue or given to cause harm."
            }
            (Assessment::A, Lang::Cy) => "Gwelodd neu clywodd y ffynhonnell hyn eu hunain.",
            (Assessment::B, Lang::Cy) => {
                "Dywedwyd hyn wrth y ffynhonnell, ac mae gwybodaeth arall yn ei gefnogi."
            }
            (Assessment::C, Lang::Cy) => {
                "Dywedwyd hyn wrth y ffynhonnell, a does dim byd yn ei gefnogi eto."
            }
            (Assessment::D, Lang::Cy) => "Nid yw'n hysbys sut y daeth y ffynhonnell i wybod hyn.",
            (Assessment::E, Lang::Cy) => {
                "Mae rheswm i gredu ei fod yn anwir neu wedi'i roi i achosi niwed."
            }
        }
    }
}

impl HandlingCode {
    /// Every value, in order.
    pub const ALL: [HandlingCode; 2] = [HandlingCode::P, HandlingCode::C];
    /// `P` or `C`.
    pub fn code(self) -> &'static str {
        match self {
            HandlingCode::P => "P",
            HandlingCode::C => "C",
        }
    }
    /// Parse a code (either case).
    pub fn from_code(s: &str) -> Option<HandlingCode> {
        HandlingCode::ALL
            .into_iter()
            .find(|x| x.code().eq_ignore_ascii_case(s.trim()))
    }
    /// The label, in words.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (HandlingCode::P, Lang::En) => "Lawful sharing permitted",
            (HandlingCode::C, Lang::En) => "Lawful sharing permitted with conditions",
            (HandlingCode::P, Lang::Cy) => "Caniateir ei rannu'n gyfreithlon",
            (HandlingCode::C, Lang::Cy) => "Caniateir ei rannu'n gyfreithlon gydag amodau",
        }
    }
    /// When to choose it.
    pub fn hint(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (HandlingCode::P, Lang::En) => {
                "It may be shared with other agencies under the law without conditions."
            }
            (HandlingCode::C, Lang::En) => {
                "It may be shared only on the conditions you state (for example: not to be shared outside the force without the bureau's agreement)."
            }
            (HandlingCode::P, Lang::Cy) => {
                "Gellir ei rannu ag asiantaethau eraill o dan y gyfraith heb amodau."
            }
            (HandlingCode::C, Lang::Cy) => {
                "Gellir ei rannu dim ond ar yr amodau rydych yn eu nodi (er enghraifft: ddim i'w rannu y tu allan i'r heddlu heb gytundeb y swyddfa)."
            }
        }
    }
}

/// The names of the three parts, in English and Welsh.
pub fn part_label(part: &str, lang: Lang) -> &'static str {
    match (part, lang) {
        ("source", Lang::En) => "Source evaluation",
        ("assessment", Lang::En) => "Intelligence assessment",
        ("handling", Lang::En) => "Handling code",
        ("conditions", Lang::En) => "Handling conditions",
        ("reason", Lang::En) => "Reason for the change",
        ("source", Lang::Cy) => "Gwerthusiad o'r ffynhonnell",
        ("assessment", Lang::Cy) => "Asesiad o'r wybodaeth",
        ("handling", Lang::Cy) => "Cod trin",
        ("conditions", Lang::Cy) => "Amodau trin",
        ("reason", Lang::Cy) => "Rheswm dros y newid",
        (_, Lang::En) => "Grading",
        (_, Lang::Cy) => "Graddio",
    }
}

/// A grading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grading {
    /// 1, 2 or 3.
    pub source: SourceEvaluation,
    /// A to E.
    pub assessment: Assessment,
    /// P or C.
    pub handling: HandlingCode,
    /// The conditions of a C (absent for P).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<String>,
}

impl Grading {
    /// `2 B P`: how a grading is shown everywhere.
    pub fn code(&self) -> String {
        format!(
            "{} {} {}",
            self.source.code(),
            self.assessment.code(),
            self.handling.code()
        )
    }

    /// The grading in words, one line per part (exports speak words).
    pub fn words(&self, lang: Lang) -> String {
        format!(
            "{}: {} ({}). {}: {} ({}). {}: {} ({}).",
            part_label("source", lang),
            self.source.label(lang),
            self.source.code(),
            part_label("assessment", lang),
            self.assessment.label(lang),
            self.assessment.code(),
            part_label("handling", lang),
            self.handling.label(lang),
            self.handling.code(),
        )
    }
}

/// A grading as asked for, before the rules: the text of its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GradingInput {
    /// `1`, `2` or `3`.
    pub source: String,
    /// `A` to `E`.
    pub assessment: String,
    /// `P` or `C`.
    pub handling: String,
    /// Required for `C`, refused for `P`.
    pub conditions: String,
    /// Required when the source evaluation changes.
    pub reason: String,
}

/// What is wrong with a grading, field by field (`source`, `assessment`,
/// `handling`, `conditions`, `reason`), in words that never quote it.
pub type FieldErrors = Vec<(&'static str, String)>;

/// Check `input` against the case's current grading (`None`: never graded,
/// so the source stands at [`ANONYMOUS_SOURCE`]). Returns the grading and
/// the reason (trimmed; `None` when none was needed nor given).
pub fn check(
    current: Option<&Grading>,
    input: &GradingInput,
) -> Result<(Grading, Option<String>), FieldErrors> {
    let mut errors: FieldErrors = Vec::new();
    let source = SourceEvaluation::from_code(&input.source);
    if source.is_none() {
        errors.push(("source", "Choose a source evaluation: 1, 2 or 3".to_owned()));
    }
    let assessment = Assessment::from_code(&input.assessment);
    if assessment.is_none() {
        errors.push((
            "assessment",
            "Choose an intelligence assessment: A, B, C, D or E".to_owned(),
        ));
    }
    let handling = HandlingCode::from_code(&input.handling);
    if handling.is_none() {
        errors.push(("handling", "Choose a handling code: P or C".to_owned()));
    }
    let conditions = match handling {
        Some(HandlingCode::C) => {
            match check_text(
                "the conditions for handling code C",
                &input.conditions,
                MAX_GRADING_TEXT,
            ) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(("conditions", capital(&e)));
                    None
                }
            }
        }
        Some(HandlingCode::P) if !input.conditions.trim().is_empty() => {
            errors.push((
                "conditions",
                "Handling code P has no conditions: choose C to state conditions, or clear them"
                    .to_owned(),
            ));
            None
        }
        _ => None,
    };
    let was = current.map(|g| g.source).unwrap_or(ANONYMOUS_SOURCE);
    let reason = if input.reason.trim().is_empty() {
        if source.is_some_and(|s| s != was) {
            errors.push((
                "reason",
                format!(
                    "Give a reason for changing the source evaluation from {} ({})",
                    was.code(),
                    was.label(Lang::En).to_lowercase()
                ),
            ));
        }
        None
    } else {
        match check_text("the reason", &input.reason, MAX_GRADING_TEXT) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(("reason", capital(&e)));
                None
            }
        }
    };
    match (source, assessment, handling) {
        (Some(source), Some(assessment), Some(handling)) if errors.is_empty() => Ok((
            Grading {
                source,
                assessment,
                handling,
                conditions,
            },
            reason,
        )),
        _ => Err(errors),
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(s: &str, a: &str, h: &str) -> GradingInput {
        GradingInput {
            source: s.into(),
            assessment: a.into(),
            handling: h.into(),
            ..GradingInput::default()
        }
    }

    #[test]
    fn a_first_grading_at_2_needs_no_reason_and_shows_as_2_b_p() {
        let (g, reason) = check(None, &input("2", "b", "P")).unwrap();
        assert_eq!(g.code(), "2 B P");
        assert_eq!(reason, None);
        assert!(g.words(Lang::En).contains("Untested (2)"));
        assert!(g.words(Lang::Cy).contains("Heb ei brofi (2)"));
    }

    #[test]
    fn changing_the_source_evaluation_needs_a_reason() {
        let e = check(None, &input("1", "A", "P")).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "reason");
        assert!(e[0].1.contains("from 2 (untested)"), "{e:?}");
        let mut i = input("1", "A", "P");
        i.reason = " corroborated by a test purchase ".into();
        let (g, reason) = check(None, &i).unwrap();
        assert_eq!(g.source, SourceEvaluation::Reliable);
        assert_eq!(reason.as_deref(), Some("corroborated by a test purchase"));
        // Now at 1: staying at 1 needs none, going back to 2 does.
        assert!(check(Some(&g), &input("1", "C", "P")).is_ok());
        let e = check(Some(&g), &input("2", "C", "P")).unwrap_err();
        assert!(e[0].1.contains("from 1 (reliable)"));
    }

    #[test]
    fn handling_code_c_needs_conditions_and_p_takes_none() {
        let e = check(None, &input("2", "C", "C")).unwrap_err();
        assert_eq!(e[0].0, "conditions");
        let mut i = input("2", "C", "c");
        i.conditions = "Not to leave the force without the FIB's agreement".into();
        let (g, _) = check(None, &i).unwrap();
        assert_eq!(g.code(), "2 C C");
        assert!(g.conditions.is_some());
        let mut i = input("2", "C", "P");
        i.conditions = "something".into();
        assert_eq!(check(None, &i).unwrap_err()[0].0, "conditions");
    }

    #[test]
    fn every_part_is_checked_and_errors_never_quote_the_input() {
        let mut i = input("4", "F", "X");
        i.reason = "secret\u{202e}".into();
        let e = check(None, &i).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["source", "assessment", "handling", "reason"]);
        assert!(!format!("{e:?}").contains("secret"));
    }

    #[test]
    fn every_code_has_words_in_both_languages_and_round_trips() {
        for s in SourceEvaluation::ALL {
            assert_eq!(SourceEvaluation::from_code(s.code()), Some(s));
            for l in [Lang::En, Lang::Cy] {
                assert!(!s.label(l).is_empty() && !s.hint(l).is_empty());
            }
            assert_ne!(s.label(Lang::En), s.label(Lang::Cy));
        }
        for a in Assessment::ALL {
            assert_eq!(Assessment::from_code(a.code()), Some(a));
            assert_ne!(a.label(Lang::En), a.label(Lang::Cy));
            assert_ne!(a.hint(Lang::En), a.hint(Lang::Cy));
        }
        for h in HandlingCode::ALL {
            assert_eq!(HandlingCode::from_code(h.code()), Some(h));
            assert_ne!(h.label(Lang::En), h.label(Lang::Cy));
        }
        let g = Grading {
            source: SourceEvaluation::NotReliable,
            assessment: Assessment::E,
            handling: HandlingCode::P,
            conditions: None,
        };
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, r#"{"source":"3","assessment":"E","handling":"P"}"#);
        assert_eq!(serde_json::from_str::<Grading>(&json).unwrap(), g);
    }
}
