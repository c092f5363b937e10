//! The words a reporter saw for the report's fixed values: its category
//! (`drugs` → "Drugs") and how they know (`saw` → "I saw it"), in English
//! and Welsh. The desk, the CLI and the exports show these words, never the
//! wire codes (which `crypto/src/payload.rs` fixes and the words never
//! change).
//!
//! The reporting page's catalogue (`web/src/i18n/en.json`, `cy.json`, keys
//! from `web/src/labels.js`) is where the words are written; this table is
//! the casework's one copy of them, and a unit test reads the catalogue and
//! `labels.js` and fails if a word or a key drifted. It does not translate
//! anything else (the desk is in English) and does not know the page's other
//! strings.

/// A language the labels are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Welsh (Cymraeg).
    Cy,
}

impl Lang {
    /// Welsh for a `cy` tag (`cy`, `cy-GB`…), else English.
    pub fn of_tag(tag: &str) -> Lang {
        if tag.trim().to_ascii_lowercase().starts_with("cy") {
            Lang::Cy
        } else {
            Lang::En
        }
    }
}

/// (wire value, catalogue key, English, Welsh), in `quietline_crypto::payload::CATEGORIES` order.
const CATEGORY: [(&str, &str, &str, &str); 14] = [
    ("drugs", "cat.drugs", "Drugs", "Cyffuriau"),
    (
        "violence",
        "cat.violence",
        "Violence or threats",
        "Trais neu fygythiadau",
    ),
    (
        "sexual-offences",
        "cat.sexual",
        "Sexual offences",
        "Troseddau rhywiol",
    ),
    (
        "domestic-abuse",
        "cat.domestic",
        "Domestic abuse",
        "Cam-drin domestig",
    ),
    ("hate-crime", "cat.hate", "Hate crime", "Trosedd casineb"),
    ("weapons", "cat.weapons", "Weapons", "Arfau"),
    (
        "exploitation",
        "cat.exploitation",
        "Exploitation",
        "Camfanteisio",
    ),
    ("fraud", "cat.fraud", "Fraud or scams", "Twyll neu sgamiau"),
    (
        "theft",
        "cat.theft",
        "Theft or stolen goods",
        "Dwyn neu nwyddau wedi’u dwyn",
    ),
    (
        "anti-social-behaviour",
        "cat.asb",
        "Anti-social behaviour",
        "Ymddygiad gwrthgymdeithasol",
    ),
    (
        "terrorism",
        "cat.terrorism",
        "Terrorism or extremism",
        "Terfysgaeth neu eithafiaeth",
    ),
    ("corruption", "cat.corruption", "Corruption", "Llygredd"),
    (
        "driving",
        "cat.driving",
        "Dangerous or illegal driving",
        "Gyrru peryglus neu anghyfreithlon",
    ),
    ("other", "cat.other", "Something else", "Rhywbeth arall"),
];

/// (wire value, catalogue key, English, Welsh), in `quietline_crypto::payload::HOW_KNOWN` order.
const HOW: [(&str, &str, &str, &str); 6] = [
    ("saw", "how.saw", "I saw it", "Fe welais i hyn"),
    ("heard", "how.heard", "I heard it", "Fe glywais i hyn"),
    (
        "told",
        "how.told",
        "Someone told me",
        "Dywedodd rhywun wrtha i",
    ),
    (
        "involved",
        "how.involved",
        "I am or was involved",
        "Rydw i, neu roeddwn i, yn rhan ohono",
    ),
    ("other", "how.other", "Another way", "Mewn ffordd arall"),
    (
        "prefer-not-to-say",
        "how.prefer-not-to-say",
        "I would rather not say",
        "Byddai’n well gen i beidio â dweud",
    ),
];

fn lookup<'a>(table: &[(&str, &str, &'a str, &'a str)], code: &'a str, lang: Lang) -> &'a str {
    table
        .iter()
        .find(|(c, ..)| *c == code)
        .map(|(_, _, en, cy)| match lang {
            Lang::En => *en,
            Lang::Cy => *cy,
        })
        // A value this version does not know is shown as given (payload.rs:
        // "readers show unknown values as given").
        .unwrap_or(code)
}

/// The words for a category value (the value itself if unknown).
pub fn category(code: &str, lang: Lang) -> &str {
    lookup(&CATEGORY, code, lang)
}

/// The words for a "how do you know" value (the value itself if unknown).
pub fn how_known(code: &str, lang: Lang) -> &str {
    lookup(&HOW, code, lang)
}

/// Every category as (value, English words), in the page's order.
pub fn categories() -> impl Iterator<Item = (&'static str, &'static str)> {
    CATEGORY.iter().map(|(c, _, en, _)| (*c, *en))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quietline_crypto::payload::{CATEGORIES, HOW_KNOWN};
    use std::path::Path;

    fn web(file: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../web/src")
            .join(file);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn the_tables_follow_the_wire_values_in_order() {
        let cats: Vec<&str> = CATEGORY.iter().map(|r| r.0).collect();
        assert_eq!(cats, CATEGORIES);
        let how: Vec<&str> = HOW.iter().map(|r| r.0).collect();
        assert_eq!(how, HOW_KNOWN);
    }

    #[test]
    fn the_words_are_the_reporting_page_s_catalogue() {
        let en: serde_json::Value = serde_json::from_str(&web("i18n/en.json")).unwrap();
        let cy: serde_json::Value = serde_json::from_str(&web("i18n/cy.json")).unwrap();
        let labels_js = web("labels.js");
        for (code, key, in_en, in_cy) in CATEGORY.iter().chain(HOW.iter()) {
            assert_eq!(en[key].as_str(), Some(*in_en), "en.json {key}");
            assert_eq!(cy[key].as_str(), Some(*in_cy), "cy.json {key}");
            // The page maps the value to the same key (labels.js writes
            // `value: ["key"` or `value: "key"`, the value quoted if it has
            // a dash).
            let quoted = if code.contains('-') {
                format!("\"{code}\":")
            } else {
                format!("{code}:")
            };
            assert!(
                labels_js.lines().any(|l| {
                    let l = l.trim();
                    l.starts_with(&quoted) && l.contains(&format!("\"{key}\""))
                }),
                "labels.js maps {code} to {key}"
            );
        }
    }

    #[test]
    fn words_in_both_languages_and_unknown_values_as_given() {
        assert_eq!(category("drugs", Lang::En), "Drugs");
        assert_eq!(category("drugs", Lang::Cy), "Cyffuriau");
        assert_eq!(how_known("saw", Lang::En), "I saw it");
        assert_eq!(how_known("saw", Lang::of_tag("cy-GB")), "Fe welais i hyn");
        assert_eq!(category("new-in-v2", Lang::En), "new-in-v2");
        assert_eq!(Lang::of_tag("en"), Lang::En);
    }
}
