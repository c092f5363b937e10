// Test helper: the page's modules say everything through the catalogue in
// use (src/i18n.js); the tests read what they say in English.
import { readFileSync } from "node:fs";
import { useCatalogue } from "../src/i18n.js";

export const EN = JSON.parse(readFileSync(new URL("../src/i18n/en.json", import.meta.url), "utf8"));
export const CY = JSON.parse(readFileSync(new URL("../src/i18n/cy.json", import.meta.url), "utf8"));
useCatalogue("en", EN);
