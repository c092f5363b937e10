// When the service cannot store a report for a while (503: its disk is full,
// its database is restarting), the page waits as the answer's Retry-After
// says and sends the SAME sealed report again, a bounded number of times.
// Pure functions, so the rules are tested without a browser (test/retry.test.js).

import { t } from "./i18n.js";

/** Retries after a 503, per send; with the server's 5 s, about 20 s of waiting. */
export const MAX_RETRIES = 4;
/** The wait when a 503 carries no usable Retry-After. */
export const DEFAULT_WAIT_SECS = 5;
/** The longest wait the page accepts from Retry-After (a reporter is waiting). */
export const MAX_WAIT_SECS = 60;

/**
 * Seconds to wait before sending the same report again after `res` (a
 * postReport result), when `retries` retries were already made; 0 when the
 * page must not retry: anything but a 503, or the retries are used up.
 * Retry-After is read as whole seconds (an HTTP date, nonsense or 0 get the
 * default), at most 60.
 */
export function retryWait(res, retries) {
  if (res.status !== 503 || retries >= MAX_RETRIES) return 0;
  return Math.min(MAX_WAIT_SECS, parseInt(res.retryAfter) || DEFAULT_WAIT_SECS);
}

/** What the waiting screen says while it waits `secs` seconds to try again; `what` is "report" or "message". */
export function busyMessage(secs, what) {
  return t(what === "report" ? "wait.busy.report" : "wait.busy.message", { n: secs });
}
