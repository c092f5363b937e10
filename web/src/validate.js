// Pure checks and wording for the page's questions: no DOM, so node --test
// can run them. Messages follow the GOV.UK style: say what to do, plainly.

import { wordsToReplyCode, ReplyCodeError } from "./quietline-crypto.js";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July",
  "August", "September", "October", "November", "December"];

const trim = (s) => String(s ?? "").trim();

/**
 * Day, month and year fields → { value: "YYYY-MM-DD" } or { value: null }
 * when all three are empty, or { error, field } naming the field to fix.
 * `today` is a Date (local), for the "in the past" check.
 */
export function parseDate(day, month, year, today = new Date()) {
  const d = trim(day);
  const m = trim(month);
  const y = trim(year);
  if (!d && !m && !y) return { value: null };
  const missing = [!d && "day", !m && "month", !y && "year"].filter(Boolean);
  if (missing.length) {
    return { error: `The date must include a ${missing.join(" and a ")}`, field: missing[0] };
  }
  if (!/^\d{1,2}$/.test(d)) return { error: "The date must be a real date", field: "day" };
  const mi = /^\d{1,2}$/.test(m) ? Number(m) : 0;
  if (!mi || mi > 12) return { error: "The date must be a real date", field: "month" };
  if (!/^\d{4}$/.test(y)) return { error: "The year must include 4 numbers", field: "year" };
  const di = Number(d);
  const yi = Number(y);
  const probe = new Date(yi, mi - 1, di);
  if (di < 1 || probe.getFullYear() !== yi || probe.getMonth() !== mi - 1 || probe.getDate() !== di) {
    return { error: "The date must be a real date", field: "day" };
  }
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  if (probe > end) return { error: "The date must be today or in the past", field: "day" };
  if (yi < 1900) return { error: "The year must be 1900 or later", field: "year" };
  const pad2 = (n) => String(n).padStart(2, "0");
  return { value: `${yi}-${pad2(mi)}-${pad2(di)}` };
}

/**
 * A typed time → { value: "HH:MM" } (24-hour), { value: null } when empty,
 * or { error }. Accepts 22:15, 22.15, 2215, 9:30, 9pm, 9:30am, noon, midnight.
 */
export function parseTime(text) {
  const t = trim(text).toLowerCase().replace(/\s+/g, "");
  if (!t) return { value: null };
  if (t === "noon" || t === "midday") return { value: "12:00" };
  if (t === "midnight") return { value: "00:00" };
  const m = /^(\d{1,2})(?:[:.]?(\d{2}))?(am|pm)?$/.exec(t);
  const bad = { error: "Enter a real time, like 22:15 or 10:15pm" };
  if (!m) return bad;
  let h = Number(m[1]);
  const min = m[2] === undefined ? 0 : Number(m[2]);
  if (m[2] === undefined && !m[3]) return bad;
  if (min > 59) return bad;
  if (m[3]) {
    if (h < 1 || h > 12) return bad;
    h = (h % 12) + (m[3] === "pm" ? 12 : 0);
  } else if (h > 23) return bad;
  return { value: `${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}` };
}

/**
 * Tidy what a reporter typed or pasted as a reply code before the strict
 * parser sees it: list numbers ("1.", "2)") and commas go; digits never
 * occur in the word list.
 */
export function tidyCodeInput(text) {
  return String(text ?? "").replace(/\d+[.)]?/g, " ").replace(/[,;]/g, " ");
}

/**
 * Parse a typed reply code → { entropy } or { error } with a plain-English
 * message for each of the three failures (count, unknown word, checksum).
 */
export function checkReplyCode(text) {
  try {
    return { entropy: wordsToReplyCode(tidyCodeInput(text)) };
  } catch (e) {
    if (!(e instanceof ReplyCodeError)) throw e;
    if (e.code === "word_count") {
      return {
        error: e.count === 0
          ? "Enter your 12-word reply code"
          : `Your reply code has 12 words. You entered ${e.count} ${e.count === 1 ? "word" : "words"}`,
      };
    }
    if (e.code === "unknown_word") {
      return { error: `Word ${e.position}, “${e.word}”, is not one of the reply code words. Check how it is spelled` };
    }
    return { error: "These 12 words are not a reply code. Check that each word is spelled correctly and in the right order" };
  }
}

/** "2026-11-28T09:00:00Z" → "28 November 2026 at 9am" in local time, or the text as given. */
export function formatSentAt(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const h = d.getHours();
  const m = d.getMinutes();
  const h12 = h % 12 || 12;
  const time = `${h12}${m ? ":" + String(m).padStart(2, "0") : ""}${h < 12 ? "am" : "pm"}`;
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} at ${time}`;
}

/** "2026-11-20" → "20 November 2026". */
export function formatDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || "");
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}` : String(ymd ?? "");
}
