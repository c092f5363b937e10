//! Intelligence handling (issue 17), as pure rules: the 3x5x2 grading
//! ([`grading`]), THRIVE and RE-THRIVE risk assessments ([`thrive`]) and the
//! response targets per priority with the time left and overdue ([`targets`]),
//! the retention review date of a closed case ([`retention`]),
//! each with its labels and hints in English and Welsh ([`Lang`]).
//!
//! It owns what a valid grading or assessment is, what changing one needs
//! (a reason to move the source evaluation off its starting value), how a
//! grading is written (`2 B P`) and when a case is overdue. It does no I/O
//! except reading the force's `intel.toml` ([`targets::ResponseTargets::load`]);
//! it stores nothing (each grading and assessment is a sealed record:
//! [`crate::records`]) and it does not decide who may grade or what is
//! audited (the [`crate::desk::Desk`] does: `casework/src/desk/intel.rs`).

pub mod grading;
pub mod report;
pub mod retention;
pub mod targets;
pub mod thrive;

pub use grading::{Assessment, Grading, HandlingCode, SourceEvaluation};
pub use retention::{RetentionRules, Review};
pub use targets::{Due, ResponseTargets};
pub use thrive::Thrive;

/// The language of a label or a hint: the desk's two (issue 17: "the labels
/// and hints in English and Welsh").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// Welsh (Cymraeg).
    Cy,
}

impl Lang {
    /// `cy…` is Welsh, anything else English.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("cy") {
            Lang::Cy
        } else {
            Lang::En
        }
    }
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Cy => "cy",
        }
    }
}

/// Handler-written free text in an intelligence record (a reason, handling
/// conditions, a THRIVE field): trimmed, 1 to `max` characters, no control
/// characters but line breaks and no bidirectional overrides. The error
/// names the field, never the text.
pub(crate) fn check_text(what: &str, text: &str, max: usize) -> Result<String, String> {
    // Browsers send line breaks as CR LF.
    let t = text.replace("\r\n", "\n");
    let t = t.trim();
    if t.is_empty() {
        return Err(format!("enter {what}"));
    }
    if t.chars().count() > max {
        return Err(format!("{what} must be {max} characters or fewer"));
    }
    if t.chars().any(crate::text::is_unsafe) {
        return Err(format!(
            "{what} contains control or direction-changing characters; remove them"
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_trimmed_bounded_and_never_quoted_in_errors() {
        assert_eq!(
            check_text("a reason", "  why \r\nso ", 50).unwrap(),
            "why \nso"
        );
        let e = check_text("a reason", "   ", 50).unwrap_err();
        assert_eq!(e, "enter a reason");
        let e = check_text("a reason", "secretword", 5).unwrap_err();
        assert!(!e.contains("secretword"));
        assert!(check_text("a reason", "a\u{202e}b", 50).is_err());
        assert!(check_text("a reason", "a\u{7}b", 50).is_err());
        assert_eq!(Lang::from_tag("CY-gb"), Lang::Cy);
        assert_eq!(Lang::from_tag("pl"), Lang::En);
    }
}
