// The page's retry after a 503 (src/retry.js): when, how long, how often.
import "./use-en.js";
import { test } from "node:test";
import assert from "node:assert/strict";

import { retryWait, busyMessage, MAX_RETRIES, DEFAULT_WAIT_SECS, MAX_WAIT_SECS } from "../src/retry.js";

const busy = (retryAfter) => ({ ok: false, status: 503, error: "storage_unavailable", message: "", retryAfter });

test("a 503 is retried after Retry-After seconds", () => {
  assert.equal(retryWait(busy("5"), 0), 5);
  assert.equal(retryWait(busy(" 12 "), 1), 12);
  assert.equal(retryWait({ ...busy("2"), error: "shutting_down" }, 0), 2);
});

test("a missing, non-numeric or date Retry-After waits the default", () => {
  for (const v of [null, undefined, "", "soon", "0", "Wed, 21 Oct 2015 07:28:00 GMT"]) {
    assert.equal(retryWait(busy(v), 0), DEFAULT_WAIT_SECS, String(v));
  }
});

test("waits are whole seconds, at most the cap", () => {
  assert.equal(retryWait(busy("3600"), 0), MAX_WAIT_SECS);
  assert.equal(retryWait(busy("2.5"), 0), 2);
});

test("retries are bounded", () => {
  for (let n = 0; n < MAX_RETRIES; n++) assert.equal(retryWait(busy("1"), n), 1);
  assert.equal(retryWait(busy("1"), MAX_RETRIES), 0);
  assert.equal(retryWait(busy("1"), MAX_RETRIES + 5), 0);
});

test("nothing but a 503 is retried this way", () => {
  assert.equal(retryWait({ ok: true, id: "ab" }, 0), 0);
  for (const status of [0, 400, 404, 413, 422, 429, 500, 502, 504]) {
    assert.equal(retryWait({ ok: false, status, error: "", message: "", retryAfter: "1" }, 0), 0, String(status));
  }
});

test("the waiting message is honest and names what is kept", () => {
  assert.equal(busyMessage(5, "report"), "The service is busy; we will try again in 5 seconds. Your report is kept on this page.");
  assert.equal(busyMessage(1, "message"), "The service is busy; we will try again in 1 second. Your message is kept on this page.");
});
