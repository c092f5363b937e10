// Pure checks and wording for the page's questions: no DOM, so node --test
// can run them. Messages follow the GOV.UK style: say what to do, plainly;
// their words are the catalogue's (i18n.js).

import { wordsToReplyCode, ReplyCodeError, wordList } from "./quietline-crypto.js";
import { t } from "./i18n.js";

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
    // One whole sentence for each combination (no sentence is built from parts).
    const key = { day: "err.date.day", month: "err.date.month", year: "err.date.year",
      "day month": "err.date.day_month", "day year": "err.date.day_year", "month year": "err.date.month_year" }[missing.join(" ")];
    return { error: t(key), field: missing[0] };
  }
  const real = t("err.date.real");
  if (!/^\d{1,2}$/.test(d)) return { error: real, field: "day" };
  const mi = /^\d{1,2}$/.test(m) ? Number(m) : 0;
  if (!mi || mi > 12) return { error: real, field: "month" };
  if (!/^\d{4}$/.test(y)) return { error: t("err.date.year4"), field: "year" };
  const di = Number(d);
  const yi = Number(y);
  const probe = new Date(yi, mi - 1, di);
  if (di < 1 || probe.getFullYear() !== yi || probe.getMonth() !== mi - 1 || probe.getDate() !== di) {
    return { error: real, field: "day" };
  }
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate());
  if (probe > end) return { error: t("err.date.past"), field: "day" };
  if (yi < 1900) return { error: t("err.date.1900"), field: "year" };
  const pad2 = (n) => String(n).padStart(2, "0");
  return { value: `${yi}-${pad2(mi)}-${pad2(di)}` };
}

/**
 * A typed time → { value: "HH:MM" } (24-hour), { value: null } when empty,
 * or { error }. Accepts 22:15, 22.15, 2215, 9:30, 9pm, 9:30am (or 9yh, 9:30yb), noon, midnight.
 */
export function parseTime(text) {
  const typed = trim(text).toLowerCase().replace(/\s+/g, "");
  if (!typed) return { value: null };
  if (typed === "noon" || typed === "midday") return { value: "12:00" };
  if (typed === "midnight") return { value: "00:00" };
  // am and pm, or their Welsh yb (y bore) and yh (yr hwyr).
  const m = /^(\d{1,2})(?:[:.]?(\d{2}))?(am|pm|yb|yh)?$/.exec(typed);
  const bad = { error: t("err.time") };
  if (!m) return bad;
  let h = Number(m[1]);
  const min = m[2] === undefined ? 0 : Number(m[2]);
  if (m[2] === undefined && !m[3]) return bad;
  if (min > 59) return bad;
  if (m[3]) {
    if (h < 1 || h > 12) return bad;
    h = (h % 12) + (m[3] === "pm" || m[3] === "yh" ? 12 : 0);
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
 * Parse a typed reply code → { entropy } or { error } with a plain message
 * for each of the three failures (count, unknown word, checksum). For a word
 * not in the list, `suggest` is the list's word the reporter probably meant
 * (suggestWord), and `position` its place (from 1): the page offers it, and
 * never puts it in by itself.
 */
export function checkReplyCode(text) {
  try {
    return { entropy: wordsToReplyCode(tidyCodeInput(text)) };
  } catch (e) {
    if (!(e instanceof ReplyCodeError)) throw e;
    if (e.code === "word_count") {
      return { error: e.count === 0 ? t("err.code.empty") : t("err.code.count", { n: e.count }) };
    }
    if (e.code === "unknown_word") {
      const suggest = suggestWord(e.word);
      const vars = { n: e.position, word: e.word, suggest };
      if (!suggest) return { error: t("err.code.unknown", vars) };
      // The list spells the American way: say so when that is the slip.
      const key = UK[e.word.toLowerCase()] === suggest ? "err.code.suggest_us" : "err.code.suggest";
      return { error: t(key, vars), suggest, position: e.position, word: e.word };
    }
    return { error: t("err.code.checksum") };
  }
}

/**
 * British spellings (and common slips) of reply-code words, which are the
 * BIP39 English list's American ones. Only words a reporter could write the
 * British way are here; each maps to a word of the list (test/validate.test.js).
 */
const UK = { licence: "license", colour: "color", armour: "armor", humour: "humor", labour: "labor",
  defence: "defense", programme: "program", catalogue: "catalog", practise: "practice", flavour: "flavor",
  odour: "odor", vapour: "vapor", harbour: "harbor", fibre: "fiber", mum: "mom" };

/**
 * The word of the reply-code list a reporter probably meant by `typed` (a
 * word not in the list), or "": its UK spelling's list word; else the one
 * list word that starts with the same first four letters (BIP39 words are
 * unique in their first four); else the one list word a single slip away
 * (a letter missing, extra, changed, or two swapped). Never a guess between
 * two. Needs the word list loaded (loadWords).
 */
export function suggestWord(typed) {
  const list = wordList();
  const w = String(typed).toLowerCase();
  if (!list || !w) return "";
  if (UK[w] && list.includes(UK[w])) return UK[w];
  if (w.length >= 4) {
    const same = list.filter((x) => x.startsWith(w.slice(0, 4)));
    if (same.length === 1) return same[0];
  }
  const near = list.filter((x) => oneSlip(w, x));
  return near.length === 1 ? near[0] : "";
}

/** Whether `a` and `b` differ by one letter added, dropped or changed, or two neighbours swapped. */
function oneSlip(a, b) {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** "2026-11-28T09:00:00Z" → "28 November 2026 at 9am" in local time (in the catalogue's words), or the text as given. */
export function formatSentAt(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const h = d.getHours();
  const m = d.getMinutes();
  const vars = { h: h % 12 || 12, m: String(m).padStart(2, "0") };
  const time = t(h < 12 ? (m ? "time.am_min" : "time.am") : (m ? "time.pm_min" : "time.pm"), vars);
  return t("date.at", { date: dayMonthYear(d.getDate(), d.getMonth(), d.getFullYear()), time });
}

const dayMonthYear = (d, m, y) => t("date.dmy", { d, month: t("date.months").split(" ")[m], y });

/** "2026-11-20" → "20 November 2026" (in the catalogue's words). */
export function formatDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || "");
  return m ? dayMonthYear(Number(m[3]), Number(m[2]) - 1, m[1]) : String(ymd ?? "");
}
