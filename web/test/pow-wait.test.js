// The waiting screen's estimate of the time left (src/wait.js): the mean
// from the rate measured so far, its spread, when it counts as long, and
// durations in words rounded up.
import "./use-en.js";
import { test } from "node:test";
import assert from "node:assert/strict";

import { estimate, duration, LONG_SECS, MEASURE_MS, WAIT_TEXT } from "../src/wait.js";

test("no estimate before the rate is measured", () => {
  assert.equal(estimate(1e6, MEASURE_MS - 1, 2 ** 22), null);
  assert.equal(estimate(0, 5000, 2 ** 22), null);
});

test("the estimate is the mean time for the expected tries at the measured rate, whatever was spent", () => {
  // 2M tries in 2 s: 1M/s; 2^22 tries expected: 4.19 s on average, from now.
  const e = estimate(2e6, 2000, 2 ** 22);
  assert.equal(e.rate, 1e6);
  assert.ok(Math.abs(e.mean - 4.194304) < 1e-9);
  assert.ok(Math.abs(e.likely - e.mean * Math.log(10)) < 1e-9, "nine in ten end within ln 10 × the mean");
  assert.equal(e.long, false);
  // The time already spent does not shorten what is left (each try is a fresh chance).
  assert.equal(estimate(20e6, 20000, 2 ** 22).mean, e.mean);
});

test("long: a mean over LONG_SECS (the difficulty raised under pressure, or a slow device)", () => {
  const rate = 1e6;
  assert.equal(estimate(rate, 1000, rate * LONG_SECS).long, false);
  assert.equal(estimate(rate, 1000, rate * LONG_SECS + rate).long, true);
  assert.equal(estimate(2.5e6, 1000, 2 ** 28).long, true, "28 bits at 2.5M tries/s: about 107 s");
});

test("durations in words, rounded up", () => {
  assert.equal(duration(0.4), "a few seconds");
  assert.equal(duration(9.9), "a few seconds");
  assert.equal(duration(10), "10 seconds");
  assert.equal(duration(11), "20 seconds");
  assert.equal(duration(59), "60 seconds");
  assert.equal(duration(60), "1 minute");
  assert.equal(duration(61), "2 minutes");
  assert.equal(duration(3540), "59 minutes");
  assert.equal(duration(3599), "1 hour");
  assert.equal(duration(3601), "2 hours");
});

test("the waiting screen's sentences name the time and what is sent", () => {
  const e = estimate(2.5e6, 1000, 2 ** 28);
  assert.match(WAIT_TEXT.estimate(e), /^This should take about 2 minutes more \(nine times in ten, less than 5 minutes\)\./);
  assert.match(WAIT_TEXT.long({ mean: e.mean, what: "report" }), /about 2 minutes.*your report will be sent.*pause/s);
  assert.equal(WAIT_TEXT.pausedTitle({ what: "message" }), "Sending your message is paused");
});
