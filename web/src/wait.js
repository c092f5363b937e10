// How long the proof of work will still take, said honestly, and what the
// waiting screen says when that is long. No DOM: app.js shows it.
//
// The search is a lottery: each try wins with chance 2^−difficulty, whatever
// came before. So the time left never depends on the time spent (a search
// that has run long is not "nearly done"), and the honest estimate is the
// mean, expected tries ÷ the rate measured so far, with its spread: nine
// searches in ten end within ln 10 ≈ 2.3 times the mean.

import { t } from "./i18n.js";

/** Seconds of searching before the rate is trusted enough to quote. */
export const MEASURE_MS = 1000;
/** A search expected to take longer than this, in seconds, is "long": the reporter is told and may pause. */
export const LONG_SECS = 60;

/**
 * From `tries` made in `elapsedMs` towards `expected` tries on average:
 * null before MEASURE_MS (or with no tries), else { rate (tries/s), mean
 * (seconds left on average), likely (seconds within which 9 in 10 searches
 * end), long (mean > LONG_SECS) }.
 */
export function estimate(tries, elapsedMs, expected) {
  if (elapsedMs < MEASURE_MS || !(tries > 0)) return null;
  const rate = (tries / elapsedMs) * 1000;
  const mean = expected / rate;
  return { rate, mean, likely: mean * Math.LN10, long: mean > LONG_SECS };
}

// ---------------------------------------------------------------- words
// The waiting screen's sentences are the catalogue's (src/i18n/, keys
// wait.*): each a whole sentence with named values, none built from pieces.

/** A duration in words, rounded up so an estimate is not optimistic. */
export function duration(secs) {
  if (secs < 10) return t("wait.dur.few_seconds");
  if (secs < 60) return t("wait.dur.seconds", { n: Math.ceil(secs / 10) * 10 });
  const min = Math.ceil(secs / 60);
  if (min < 60) return t("wait.dur.minutes", { n: min });
  return t("wait.dur.hours", { n: Math.ceil(min / 60) });
}

const forWhat = (what, report, message) => t(what === "report" ? report : message);

export const WAIT_TEXT = {
  /** The estimate line, updated as the rate is measured. */
  estimate: ({ mean, likely }) => t("wait.estimate", { mean: duration(mean), likely: duration(likely) }),
  /** Shown once (announced) when the estimate is long: the service is asking for more work. */
  long: ({ mean, what }) => t(what === "report" ? "wait.long.report" : "wait.long.message", { mean: duration(mean) }),
  get pause() { return t("wait.pause"); },
  pausedTitle: ({ what }) => forWhat(what, "wait.paused_title.report", "wait.paused_title.message"),
  paused: ({ what }) => forWhat(what, "wait.paused.report", "wait.paused.message"),
  get resume() { return t("wait.resume"); },
};
