// The catalogue keys of the payload's fixed values (crypto/src/payload.rs
// CATEGORIES and HOW_KNOWN): the words are in the catalogues
// (src/i18n/*.json), the wire values never change with them. Keys are
// written out whole, so the catalogue test finds each one in the source.

/** Category value → [label key, hint key or null]. Same order as CATEGORIES. */
export const CATEGORY_LABELS = {
  drugs: ["cat.drugs", "cat.drugs.hint"],
  violence: ["cat.violence", "cat.violence.hint"],
  "sexual-offences": ["cat.sexual", "cat.sexual.hint"],
  "domestic-abuse": ["cat.domestic", "cat.domestic.hint"],
  "hate-crime": ["cat.hate", "cat.hate.hint"],
  weapons: ["cat.weapons", "cat.weapons.hint"],
  exploitation: ["cat.exploitation", "cat.exploitation.hint"],
  fraud: ["cat.fraud", "cat.fraud.hint"],
  theft: ["cat.theft", "cat.theft.hint"],
  "anti-social-behaviour": ["cat.asb", "cat.asb.hint"],
  terrorism: ["cat.terrorism", "cat.terrorism.hint"],
  corruption: ["cat.corruption", "cat.corruption.hint"],
  driving: ["cat.driving", "cat.driving.hint"],
  other: ["cat.other", null],
};

/** Categories whose choice shows where else to get help (specialist services). */
export const SIGNPOST = { "sexual-offences": "signpost.sexual", "domestic-abuse": "signpost.domestic" };

/** How-known value → label key. Same order as HOW_KNOWN. */
export const HOW_KNOWN_LABELS = {
  saw: "how.saw",
  heard: "how.heard",
  told: "how.told",
  involved: "how.involved",
  other: "how.other",
  "prefer-not-to-say": "how.prefer-not-to-say",
};

/** Answer value → label key for the three-way questions. */
export const ONGOING_LABELS = { yes: "ongoing.yes", no: "ongoing.no", unknown: "answer.unknown" };
