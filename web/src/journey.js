// The reporter's journey without the page: the answers kept in memory, which
// step follows which, what each step checks, what the check-answers page
// lists, and the payloads the answers make. No DOM, so node --test runs it
// (test/journey.test.js, which also assembles the crypto vectors' sample
// report from typed answers). app.js draws the steps and reads each form into
// these objects; nothing here keeps anything.

import { reportPayload, followUpPayload } from "./quietline-crypto.js";
import { CATEGORY_LABELS, HOW_KNOWN_LABELS, ONGOING_LABELS } from "./labels.js";
import { parseDate, parseTime, formatDate } from "./validate.js";
import { t, lang } from "./i18n.js";

/** The report's questions, in order; "check" (check answers) follows the last. */
export const REPORT_STEPS = ["force", "what", "where-when", "people", "how", "files"];

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

// [payload field, label key, hint key, textarea?, key of the label on the check page]
export const PERSON = [["name", "person.name", "", false, "person.name.short"],
  ["description", "person.description", "person.description.hint", true, "person.description.short"]];
export const VEHICLE = [["registration", "vehicle.registration", "vehicle.registration.hint", false, "vehicle.registration.short"],
  ["make_model", "vehicle.make_model", "vehicle.make_model.hint", false, "vehicle.make_model.short"],
  ["colour", "vehicle.colour", "", false, "vehicle.colour.short"],
  ["description", "vehicle.description", "", true, "vehicle.description.short"]];

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
  if (step === "sent" || step === "sent-check") return !!s.sent;
  if (step === "sent-done") return !!(s.sent && s.sent.confirmed);
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
  force: (r) => (r.forceId ? [] : [{ id: "force", text: t("err.force") }]),
  what(r) {
    const errors = [];
    if (!r.category) errors.push({ id: "category", text: t("err.category") });
    if (!r.details.trim()) errors.push({ id: "details", text: t("err.details") });
    else if (tooLong(r.details)) errors.push({ id: "details", text: t("err.details.long") });
    return errors;
  },
  "where-when"(r) {
    const errors = [];
    if (!r.whereKnown) errors.push({ id: "where-known", text: t("err.where_known") });
    else if (r.whereKnown === "yes" && !r.where.trim()) errors.push({ id: "where", text: t("err.where") });
    if (!r.whenKnown) errors.push({ id: "when-known", text: t("err.when_known") });
    else if (r.whenKnown === "yes") {
      const d = parseDate(r.day, r.month, r.year);
      const time = parseTime(r.time);
      if (d.error) errors.push({ id: `date-${d.field}`, group: "date", text: d.error });
      if (time.error) errors.push({ id: "time", text: time.error });
      if (!d.error && !time.error && !d.value && !time.value && !r.whenText.trim()) {
        errors.push({ id: "date-day", group: "date", text: t("err.when") });
      }
    }
    if (!r.ongoing) errors.push({ id: "ongoing", text: t("err.ongoing") });
    return errors;
  },
  people(r) {
    const given = (o) => Object.values(o).some((v) => String(v).trim());
    r.people = r.people.filter(given);
    r.vehicles = r.vehicles.filter(given);
    return [];
  },
  how: (r) => (r.howKnown ? [] : [{ id: "how", text: t("err.how") }]),
  // Optional; what the files need is checked by attach.js.
  files: () => [],
};

/** What the follow-up form checks (`f`: { forceId, message }), as CHECKS. */
export function checkFollowUp(f) {
  const errors = [];
  if (!f.forceId) errors.push({ id: "follow-force", text: t("err.follow_force") });
  if (!f.message.trim()) errors.push({ id: "message", text: t("err.message") });
  else if (tooLong(f.message)) errors.push({ id: "message", text: t("err.message.long") });
  return errors;
}

/**
 * "When", as check answers says it: one line each for the date and time
 * (a whole sentence for each of the three ways they can be given) and the
 * reporter's own words.
 */
export function whenSummary(r) {
  if (r.whenKnown !== "yes") return t("answer.unknown");
  const d = parseDate(r.day, r.month, r.year).value;
  const time = parseTime(r.time).value;
  const date = d && formatDate(d);
  const when = date && time ? t("check.when.date_time", { date, time }) : date || (time && t("check.when.time", { time }));
  return [when, r.whenText.trim()].filter(Boolean).join("\n");
}

/** People or vehicles on check answers: "None given", or a list of entries, each its "Label: value" lines. */
export function listSummary(list, fields) {
  if (!list.length) return t("check.none");
  return list.map((item) => fields.map(([k, , , , label]) => item[k].trim() && t("check.label_value", { label: t(label), value: item[k].trim() })).filter(Boolean));
}

/**
 * What check answers lists, in order: [label, answer, the step that asks
 * it, and its Change link's whole name for screen readers ("Change the
 * police force")]. `forceName` is the chosen force's name.
 */
export function checkRows(r, forceName) {
  return [
    [t("check.force"), forceName, "force", t("change.force")],
    [t("check.category"), t(CATEGORY_LABELS[r.category][0]), "what", t("change.category")],
    [t("check.details"), r.details.trim(), "what", t("change.details")],
    [t("check.where"), r.whereKnown === "yes" ? r.where.trim() : t("answer.unknown"), "where-when", t("change.where")],
    [t("check.when"), whenSummary(r), "where-when", t("change.when")],
    [t("check.ongoing"), t(ONGOING_LABELS[r.ongoing]), "where-when", t("change.ongoing")],
    [t("check.people"), listSummary(r.people, PERSON), "people", t("change.people")],
    [t("check.vehicles"), listSummary(r.vehicles, VEHICLE), "people", t("change.vehicles")],
    [t("check.how"), t(HOW_KNOWN_LABELS[r.howKnown]), "how", t("change.how")],
    [t("check.how_details"), r.howDetails.trim() || t("check.not_given"), "how", t("change.how_details")],
  ];
}

/**
 * The report payload's bytes (FORMAT.md#report-payload) from the answers,
 * sent at `sentAt` (RFC 3339, to the minute) with the reply material of the
 * reporter's new reply code: text trimmed, radios as booleans, the date and
 * time only when given, and nothing of "where" or "when" when the reporter
 * does not know.
 */
export function reportPayloadOf(r, sentAt, reply, attachments = []) {
  const whenKnown = r.whenKnown === "yes";
  const date = whenKnown ? parseDate(r.day, r.month, r.year).value : null;
  const time = whenKnown ? parseTime(r.time).value : null;
  const trimAll = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v).trim()]));
  return reportPayload({ sentAt, lang: lang(), reply, attachments, report: {
    category: r.category,
    details: r.details.trim(),
    where: { known: r.whereKnown === "yes", description: r.whereKnown === "yes" ? r.where.trim() : "" },
    when: {
      known: whenKnown,
      ...(date ? { date } : {}),
      ...(time ? { time } : {}),
      ongoing: r.ongoing === "yes",
      // "I do not know" stays apart from "No" (FORMAT.md#report-payload).
      ...(r.ongoing === "unknown" ? { ongoing_unknown: true } : {}),
      description: whenKnown ? r.whenText.trim() : "",
    },
    people: r.people.map(trimAll),
    vehicles: r.vehicles.map(trimAll),
    how_known: r.howKnown,
    how_known_details: r.howDetails.trim(),
  } });
}

/** The follow-up payload's bytes from the follow-up form, as reportPayloadOf. */
export const followUpPayloadOf = (f, sentAt, reply) => followUpPayload({ sentAt, lang: lang(), message: f.message.trim(), reply });

/**
 * The force to offer first for a follow-up: the id of the one the last reply
 * that opened came from — by the reply's `force` id when it carries one (a
 * case another force took over is answered by that force), else by the name
 * it was signed with — if the directory `forces` lists it; else undefined.
 */
export function lastReplier(replies, forces) {
  const last = [...replies].reverse().find((m) => m.ok);
  if (!last) return undefined;
  const byId = typeof last.force === "string" && forces.find((f) => f.id === last.force);
  const match = byId || forces.find((f) => f.name.toLowerCase() === String(last.from).trim().toLowerCase());
  return match && match.id;
}
