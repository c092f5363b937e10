// The reporter's journey without the page: the answers kept in memory, which
// step follows which, what each step checks, what the check-answers page
// lists, and the payloads the answers make. No DOM, so node --test runs it
// (test/journey.test.js, which also assembles the crypto vectors' sample
// report from typed answers). app.js draws the steps and reads each form into
// these objects; nothing here keeps anything.

import { reportPayload, followUpPayload } from "./quietline-crypto.js";
import { CATEGORY_LABELS, HOW_KNOWN_LABELS, ONGOING_LABELS } from "./labels.js";
import { parseDate, parseTime, formatDate } from "./validate.js";

/** The report's questions, in order; "check" (check answers) follows the last. */
export const REPORT_STEPS = ["force", "what", "where-when", "people", "how"];

/**
 * The answers as the forms hold them: text as typed, radios as their values
 * ("yes", "no", "unknown", a category, …). Trimmed and shaped into a payload
 * only when sent (reportFields).
 */
export const emptyReport = () => ({
  forceId: "", category: "", details: "",
  whereKnown: "", where: "",
  whenKnown: "", day: "", month: "", year: "", time: "", whenText: "", ongoing: "",
  people: [], vehicles: [],
  howKnown: "", howDetails: "",
});

// [payload field, label, hint, textarea?, label on the check page]
export const PERSON = [["name", "Name or nickname (optional)", "", false, "Name"],
  ["description", "What do they look like? (optional)", "For example, their age, height, clothes, or where they can often be found", true, "Description"]];
export const VEHICLE = [["registration", "Registration number (optional)", "For example, AB12 CDE", false, "Registration"],
  ["make_model", "Make and model (optional)", "For example, Ford Focus", false, "Make and model"],
  ["colour", "Colour (optional)", "", false, "Colour"],
  ["description", "Anything else about it (optional)", "", true, "Other details"]];

/** The first report step that is not answered, or null. */
export function firstIncomplete(r) {
  if (!r.forceId) return "force";
  if (!r.category || !r.details.trim()) return "what";
  if (!r.whereKnown || !r.whenKnown || !r.ongoing) return "where-when";
  if (!r.howKnown) return "how";
  return null;
}

/**
 * Whether `step` can be shown with what the page state `s` holds now: the
 * questions after the first once a force is chosen, check answers once every
 * question is answered, and the later pages only with what they show (a
 * reload, Back or Forward must not show an empty one). Other steps always.
 */
export function allowed(step, s) {
  if (REPORT_STEPS.indexOf(step) > 0) return !!s.r.forceId;
  if (step === "check") return !firstIncomplete(s.r);
  if (step === "sent") return !!s.sent;
  if (step === "replies") return !!s.secrets;
  if (step === "follow-up-sent") return !!s.followSent;
  return true;
}

/**
 * The step after a question is answered: the next question, or check
 * answers after the last; straight back to check answers when the reporter
 * came from a Change link (`changing`) and every question is answered.
 */
export function nextStep(step, r, changing) {
  if (changing && !firstIncomplete(r)) return "check";
  return REPORT_STEPS[REPORT_STEPS.indexOf(step) + 1] || "check";
}

// What a sealed payload can hold (the 64 KiB bucket, less the JSON around it).
const tooLong = (text) => new TextEncoder().encode(text).length > 60000;

/**
 * What each question checks, once its form is read into `r`: a list of
 * errors [{ id, text, group? }] (empty when the step may be left). `id` is
 * the field the error summary links to; the date's three fields share the
 * group "date", and the id names the one to fix. "people" only drops the
 * entries left wholly blank.
 */
export const CHECKS = {
  force: (r) => (r.forceId ? [] : [{ id: "force", text: "Select the police force you want to tell" }]),
  what(r) {
    const errors = [];
    if (!r.category) errors.push({ id: "category", text: "Select what your report is about" });
    if (!r.details.trim()) errors.push({ id: "details", text: "Tell us what happened" });
    else if (tooLong(r.details)) {
      errors.push({ id: "details", text: "What happened is too long. Make it shorter: at most about 60,000 letters" });
    }
    return errors;
  },
  "where-when"(r) {
    const errors = [];
    if (!r.whereKnown) errors.push({ id: "where-known", text: "Select whether you know where it happened" });
    else if (r.whereKnown === "yes" && !r.where.trim()) errors.push({ id: "where", text: "Enter where it happened, or select ‘No, I do not know’" });
    if (!r.whenKnown) errors.push({ id: "when-known", text: "Select whether you know when it happened" });
    else if (r.whenKnown === "yes") {
      const d = parseDate(r.day, r.month, r.year);
      const t = parseTime(r.time);
      if (d.error) errors.push({ id: `date-${d.field}`, group: "date", text: d.error });
      if (t.error) errors.push({ id: "time", text: t.error });
      if (!d.error && !t.error && !d.value && !t.value && !r.whenText.trim()) {
        errors.push({ id: "date-day", group: "date", text: "Enter a date or a time, or describe when it happened" });
      }
    }
    if (!r.ongoing) errors.push({ id: "ongoing", text: "Select whether it is still happening" });
    return errors;
  },
  people(r) {
    const given = (o) => Object.values(o).some((v) => String(v).trim());
    r.people = r.people.filter(given);
    r.vehicles = r.vehicles.filter(given);
    return [];
  },
  how: (r) => (r.howKnown ? [] : [{ id: "how", text: "Select how you know about this" }]),
};

/** What the follow-up form checks (`f`: { forceId, message }), as CHECKS. */
export function checkFollowUp(f) {
  const errors = [];
  if (!f.forceId) errors.push({ id: "follow-force", text: "Select the police force your message is for" });
  if (!f.message.trim()) errors.push({ id: "message", text: "Enter your message" });
  else if (tooLong(f.message)) errors.push({ id: "message", text: "Your message is too long. Make it shorter: at most about 60,000 letters" });
  return errors;
}

/** "When", as check answers says it. */
export function whenSummary(r) {
  if (r.whenKnown !== "yes") return "I do not know";
  const d = parseDate(r.day, r.month, r.year).value;
  const t = parseTime(r.time).value;
  return [d && formatDate(d), t && `at ${t}`, r.whenText.trim()].filter(Boolean).join(", ");
}

/** People or vehicles on check answers: "None given", or a list of entries, each its "Label: value" lines. */
export function listSummary(list, fields) {
  if (!list.length) return "None given";
  return list.map((item) => fields.map(([k, , , , label]) => item[k].trim() && `${label}: ${item[k].trim()}`).filter(Boolean));
}

/**
 * What check answers lists, in order: [label, answer, the step that asks
 * it, and what its Change link changes (for screen readers, "Change …")
 * where that is not the label in lower case]. `forceName` is the chosen
 * force's name.
 */
export function checkRows(r, forceName) {
  return [
    ["Police force", forceName, "force"],
    ["What it is about", CATEGORY_LABELS[r.category][0], "what"],
    ["What happened", r.details.trim(), "what"],
    ["Where", r.whereKnown === "yes" ? r.where.trim() : "I do not know", "where-when"],
    ["When", whenSummary(r), "where-when"],
    ["Still happening", ONGOING_LABELS[r.ongoing], "where-when", "whether it is still happening"],
    ["People", listSummary(r.people, PERSON), "people"],
    ["Vehicles", listSummary(r.vehicles, VEHICLE), "people"],
    ["How you know", HOW_KNOWN_LABELS[r.howKnown], "how"],
    ["More about how you know", r.howDetails.trim() || "Not given", "how"],
  ];
}

/**
 * The report payload's bytes (FORMAT.md#report-payload) from the answers,
 * sent at `sentAt` (RFC 3339, to the minute) with the reply material of the
 * reporter's new reply code: text trimmed, radios as booleans, the date and
 * time only when given, and nothing of "where" or "when" when the reporter
 * does not know.
 */
export function reportPayloadOf(r, sentAt, reply) {
  const whenKnown = r.whenKnown === "yes";
  const date = whenKnown ? parseDate(r.day, r.month, r.year).value : null;
  const time = whenKnown ? parseTime(r.time).value : null;
  const trimAll = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v).trim()]));
  return reportPayload({ sentAt, lang: "en", reply, report: {
    category: r.category,
    details: r.details.trim(),
    where: { known: r.whereKnown === "yes", description: r.whereKnown === "yes" ? r.where.trim() : "" },
    when: {
      known: whenKnown,
      ...(date ? { date } : {}),
      ...(time ? { time } : {}),
      ongoing: r.ongoing === "yes",
      description: whenKnown ? r.whenText.trim() : "",
    },
    people: r.people.map(trimAll),
    vehicles: r.vehicles.map(trimAll),
    how_known: r.howKnown,
    how_known_details: r.howDetails.trim(),
  } });
}

/** The follow-up payload's bytes from the follow-up form, as reportPayloadOf. */
export const followUpPayloadOf = (f, sentAt, reply) => followUpPayload({ sentAt, lang: "en", message: f.message.trim(), reply });

/**
 * The force to offer first for a follow-up: the id of the one whose name (in
 * the directory `forces`) the last reply that opened was signed with, or
 * undefined.
 */
export function lastReplier(replies, forces) {
  const last = [...replies].reverse().find((m) => m.ok);
  const match = last && forces.find((f) => f.name.toLowerCase() === String(last.from).trim().toLowerCase());
  return match && match.id;
}
