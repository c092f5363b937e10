// How long the proof of work will still take, said honestly, and what the
// waiting screen says when that is long. No DOM: app.js shows it.
//
// The search is a lottery: each try wins with chance 2^−difficulty, whatever
// came before. So the time left never depends on the time spent (a search
// that has run long is not "nearly done"), and the honest estimate is the
// mean, expected tries ÷ the rate measured so far, with its spread: nine
// searches in ten end within ln 10 ≈ 2.3 times the mean.

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

// ---------------------------------------------------------------- strings
// BEGIN user-facing strings of the waiting screen (h-pow). To move into the
// message catalogues (web/src/i18n/) as one block; each is a whole sentence
// with named values, none built from pieces.

/** A duration in words, rounded up so an estimate is not optimistic. */
export function duration(secs) {
  if (secs < 10) return "a few seconds";
  if (secs < 60) return `${Math.ceil(secs / 10) * 10} seconds`;
  const min = Math.ceil(secs / 60);
  if (min < 60) return min === 1 ? "1 minute" : `${min} minutes`;
  const hours = Math.ceil(min / 60);
  return hours === 1 ? "1 hour" : `${hours} hours`;
}

export const WAIT_TEXT = {
  /** The estimate line, updated as the rate is measured. */
  estimate: ({ mean, likely }) => `This should take about ${duration(mean)} more (nine times in ten, less than ${duration(likely)}). It is a matter of chance, so it can end at any moment.`,
  /** Shown once (announced) when the estimate is long: the service is asking for more work. */
  long: ({ mean, what }) => `The service is very busy at the moment, so this will take longer than usual: about ${duration(mean)}. You can keep this page open and use other tabs or apps meanwhile; your ${what} will be sent when the calculation is done. Or you can pause now and send it later from this tab. It stays locked in this tab and nothing is saved on this device, so closing the tab or the browser loses it.`,
  pause: "Pause and send later",
  pausedTitle: ({ what }) => `Sending your ${what} is paused`,
  paused: ({ what }) => `Your ${what} is locked and kept in this tab until you send it, cancel, or close the tab. Nothing has been sent and nothing is saved on this device. When you are ready, choose Send now: the calculation starts again, and it may be quicker if the service is less busy.`,
  resume: "Send now",
};
// END user-facing strings of the waiting screen (h-pow).
