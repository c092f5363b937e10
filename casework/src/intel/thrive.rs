//! THRIVE, the risk assessment a handler fills at triage: Threat, Harm,
//! Risk, Investigation, Vulnerability, Engagement — six fields of text, each
//! required. A re-assessment (RE-THRIVE) is a new entry; an entry is never
//! overwritten (each is its own sealed record,
//! [`crate::records::RecordBody::Thrive`], and the case keeps them all).
//!
//! It owns what a complete assessment is and the fields' words in English
//! and Welsh. It stores nothing.

use serde::{Deserialize, Serialize};

use super::{Lang, check_text};

/// The longest THRIVE field, in characters.
pub const MAX_THRIVE_FIELD: usize = 4_000;

/// The six fields' keys, in order (form fields and JSON names).
pub const FIELDS: [&str; 6] = [
    "threat",
    "harm",
    "risk",
    "investigation",
    "vulnerability",
    "engagement",
];

/// One THRIVE assessment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Thrive {
    /// Threat: who or what threatens, to whom, how.
    pub threat: String,
    /// Harm: what harm has happened or may.
    pub harm: String,
    /// Risk: how likely and how soon.
    pub risk: String,
    /// Investigation: what lines of enquiry there are.
    pub investigation: String,
    /// Vulnerability: who is vulnerable and why.
    pub vulnerability: String,
    /// Engagement: what engagement or safeguarding is needed.
    pub engagement: String,
}

impl std::fmt::Debug for Thrive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A handler's assessment of a case: case content, never in a log.
        f.write_str("Thrive(<redacted>)")
    }
}

impl Drop for Thrive {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.fields_mut() {
            v.zeroize();
        }
    }
}

impl Thrive {
    /// The fields as (key, value), in order.
    pub fn fields(&self) -> [(&'static str, &str); 6] {
        [
            ("threat", &self.threat),
            ("harm", &self.harm),
            ("risk", &self.risk),
            ("investigation", &self.investigation),
            ("vulnerability", &self.vulnerability),
            ("engagement", &self.engagement),
        ]
    }

    fn fields_mut(&mut self) -> [&mut String; 6] {
        [
            &mut self.threat,
            &mut self.harm,
            &mut self.risk,
            &mut self.investigation,
            &mut self.vulnerability,
            &mut self.engagement,
        ]
    }

    /// Set a field by key (unknown keys are ignored).
    pub fn set(&mut self, key: &str, value: &str) {
        if let Some(i) = FIELDS.iter().position(|k| *k == key) {
            *self.fields_mut()[i] = value.to_owned();
        }
    }

    /// Every field filled, trimmed, bounded; errors per field, never quoting.
    pub fn check(&self) -> Result<Thrive, Vec<(&'static str, String)>> {
        let mut out = Thrive::default();
        let mut errors = Vec::new();
        for (i, (key, value)) in self.fields().into_iter().enumerate() {
            let what = format!("the {} field", label(key, Lang::En).to_lowercase());
            match check_text(&what, value, MAX_THRIVE_FIELD) {
                Ok(t) => *out.fields_mut()[i] = t,
                Err(e) => errors.push((FIELDS[i], capital(&e))),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A field's label.
pub fn label(key: &str, lang: Lang) -> &'static str {
    match (key, lang) {
        ("threat", Lang::En) => "Threat",
        ("harm", Lang::En) => "Harm",
        ("risk", Lang::En) => "Risk",
        ("investigation", Lang::En) => "Investigation",
        ("vulnerability", Lang::En) => "Vulnerability",
        ("engagement", Lang::En) => "Engagement",
        ("threat", Lang::Cy) => "Bygythiad",
        ("harm", Lang::Cy) => "Niwed",
        ("risk", Lang::Cy) => "Risg",
        ("investigation", Lang::Cy) => "Ymchwiliad",
        ("vulnerability", Lang::Cy) => "Bregusrwydd",
        ("engagement", Lang::Cy) => "Ymgysylltu",
        (_, Lang::En) => "THRIVE",
        (_, Lang::Cy) => "THRIVE",
    }
}

/// A field's hint: what to write in it.
pub fn hint(key: &str, lang: Lang) -> &'static str {
    match (key, lang) {
        ("threat", Lang::En) => "Who or what poses a threat, to whom, and how.",
        ("harm", Lang::En) => "What harm has been done or could be done, and how serious it is.",
        ("risk", Lang::En) => "How likely the harm is, and how soon.",
        ("investigation", Lang::En) => {
            "The lines of enquiry and opportunities, and how urgent they are."
        }
        ("vulnerability", Lang::En) => {
            "Who is vulnerable and why (age, circumstances, exploitation)."
        }
        ("engagement", Lang::En) => {
            "Who needs to be engaged: safeguarding, partners, specialist teams."
        }
        ("threat", Lang::Cy) => "Pwy neu beth sy'n fygythiad, i bwy, a sut.",
        ("harm", Lang::Cy) => {
            "Pa niwed sydd wedi'i wneud neu a allai gael ei wneud, a pha mor ddifrifol ydyw."
        }
        ("risk", Lang::Cy) => "Pa mor debygol yw'r niwed, a pha mor fuan.",
        ("investigation", Lang::Cy) => "Y llinellau ymholi a'r cyfleoedd, a pha mor frys ydynt.",
        ("vulnerability", Lang::Cy) => {
            "Pwy sy'n agored i niwed a pham (oedran, amgylchiadau, camfanteisio)."
        }
        ("engagement", Lang::Cy) => {
            "Pwy sydd angen ymgysylltu: diogelu, partneriaid, timau arbenigol."
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Thrive {
        let mut t = Thrive::default();
        for k in FIELDS {
            t.set(k, &format!("  {k} text "));
        }
        t
    }

    #[test]
    fn all_six_fields_are_required_and_trimmed() {
        let ok = full().check().unwrap();
        assert_eq!(ok.threat, "threat text");
        assert_eq!(ok.engagement, "engagement text");
        let mut t = full();
        t.set("harm", " ");
        t.set("engagement", "");
        let e = t.check().unwrap_err();
        let keys: Vec<&str> = e.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["harm", "engagement"]);
        assert_eq!(e[0].1, "Enter the harm field");
    }

    #[test]
    fn debug_never_shows_the_assessment() {
        let mut t = full();
        t.set("threat", "secretword");
        assert!(!format!("{t:?}").contains("secretword"));
    }

    #[test]
    fn every_field_has_words_in_both_languages() {
        for k in FIELDS {
            assert_ne!(label(k, Lang::En), label(k, Lang::Cy));
            assert!(!hint(k, Lang::En).is_empty() && !hint(k, Lang::Cy).is_empty());
        }
    }
}
