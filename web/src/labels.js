// Plain-English labels for the payload's fixed values (crypto/src/payload.rs
// CATEGORIES and HOW_KNOWN). The wire values never change with the wording.

/** Category value → [label, hint]. Same order as CATEGORIES. */
export const CATEGORY_LABELS = {
  drugs: ["Drugs", "Selling, growing or storing drugs"],
  violence: ["Violence or threats", "Attacks, fights, threats or abuse"],
  weapons: ["Weapons", "Guns, knives or other weapons"],
  exploitation: ["Exploitation", "Someone being used or abused: for example child exploitation, county lines, modern slavery or people trafficking"],
  fraud: ["Fraud or scams", "Cheating people out of money, fake goods or documents"],
  theft: ["Theft or stolen goods", "Burglary, robbery, shoplifting, or selling stolen things"],
  terrorism: ["Terrorism or extremism", "Someone planning to hurt people for a cause, or encouraging others to"],
  corruption: ["Corruption", "Bribes or abuse of position, including by police officers or public officials"],
  driving: ["Dangerous or illegal driving", "Drink or drug driving, racing, or driving without a licence or insurance"],
  other: ["Something else", ""],
};

/** How-known value → label. Same order as HOW_KNOWN. */
export const HOW_KNOWN_LABELS = {
  saw: "I saw it",
  heard: "I heard it",
  told: "Someone told me",
  involved: "I am or was involved",
  other: "Another way",
  "prefer-not-to-say": "I would rather not say",
};

/** Answer value → label for the three-way questions. */
export const ONGOING_LABELS = { yes: "Yes", no: "No", unknown: "I do not know" };
