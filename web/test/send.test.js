// Sending (src/send.js) against a fake server and a fake worker: the
// challenge, the seal, the proof of work and the post, and each rule for
// trying again (429 → a new challenge once; 503 → the same envelope and proof
// after Retry-After, a few times; 422 → the new key, once), with Cancel.
import "./use-en.js";
import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";

import * as q from "../src/quietline-crypto.js";
import { leadingZeroBits, powHeader, solve } from "../src/pow.js";
import { getChallenge, postReport, sealAndPost, stopWork, pauseWork, resumeWork, REFRESH_MS } from "../src/send.js";
import { MAX_RETRIES } from "../src/retry.js";

const vectors = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/envelope-v1.json", import.meta.url), "utf8"));
const demo = vectors.cases.find((c) => c.name === "report, sample payload");
const PK = q.fromHex(demo.recipient_pk);
const SK = q.fromHex(demo.recipient_sk);
const payload = () => q.fromHex(demo.payload);
const sha256 = (b) => new Uint8Array(createHash("sha256").update(b).digest());

/** A version-1 challenge at `difficulty`, as its base64url text. */
function challengeText(difficulty, fill = 7) {
  const c = new Uint8Array(58).fill(fill);
  c[0] = 1;
  c[1] = difficulty;
  return q.toBase64url(c);
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

/**
 * A fake service: `posts` is a list of answers (functions of the post, or
 * Responses) given in turn; challenges count up their fill byte so each is
 * distinct. Records every request.
 */
function fakeServer({ difficulty = 8, posts = [() => json(201, { id: "ab12" })], challenge } = {}) {
  const log = { challenges: [], posts: [], requests: [] };
  let n = 0;
  const fetch = async (url, opts = {}) => {
    log.requests.push({ url, opts });
    if (url === "/api/v1/challenge") {
      const text = challengeText(difficulty, log.challenges.length + 1);
      log.challenges.push(text);
      return challenge ? challenge() : json(200, { challenge: text, difficulty, expires: "2026-12-06T23:00:00Z" });
    }
    if (url === "/api/v1/reports" && opts.method === "POST") {
      const post = { envelope: new Uint8Array(opts.body), pow: opts.headers["Quietline-Pow"] };
      log.posts.push(post);
      const answer = posts[Math.min(n++, posts.length - 1)];
      return typeof answer === "function" ? answer(post) : answer.clone();
    }
    return json(404, { error: "not_found" });
  };
  return { fetch, log };
}

/** A fake worker that really solves (pow.js, Node's WebCrypto), reporting progress first, as pow-worker.js does. */
function fakeWorker(log = {}) {
  return () => {
    const w = {
      terminated: false,
      postMessage(msg) {
        log.messages = (log.messages || 0) + 1;
        (log.shares ||= []).push([msg.start, msg.stride]);
        queueMicrotask(async () => {
          if (w.terminated) return;
          w.onmessage({ data: { tries: 1 } });
          if (log.hang) return; // never solves: only Cancel ends it
          const r = await solve(webcrypto.subtle, msg.challenge, msg.envelopeHash, msg.challenge[1], { start: msg.start, stride: msg.stride });
          if (!w.terminated) w.onmessage({ data: { tries: r.tries, header: powHeader(msg.text, r.work) } });
        });
      },
      terminate() {
        w.terminated = true;
        log.terminated = (log.terminated || 0) + 1;
      },
    };
    log.started = (log.started || 0) + 1;
    return w;
  };
}

/** The page's side of a send, recorded: `forces` the directory, `reloads` what a reload makes it. */
function page(server, { forces = [{ id: "demo", publicKey: PK }], reloads = [], worker = fakeWorker(), onBusy } = {}) {
  const seen = [];
  let list = forces;
  const io = {
    fetch: server.fetch,
    worker,
    force: (id) => list && list.find((f) => f.id === id),
    reload: async () => {
      seen.push("reload");
      list = reloads.length ? reloads.shift() : list;
    },
    progress: (text) => seen.push(`progress: ${text}`),
    solving: (expected, what) => seen.push(`solving ${expected} ${what}`),
    tries: () => {},
    busy: (secs) => {
      seen.push(`busy ${secs}`);
      if (onBusy) onBusy(secs);
    },
    posting: () => seen.push("posting"),
    paused: () => seen.push("paused"),
  };
  return { io, seen };
}

/** FORMAT.md#solution with Node's HMAC: does the post's header solve its challenge over its envelope? */
const checkPow = (post) => {
  const [text, workText] = post.pow.split(".");
  const challenge = q.fromBase64url(text);
  const work = q.fromBase64url(workText);
  const prk = createHmac("sha256", challenge).update(sha256(post.envelope)).digest();
  const digest = createHmac("sha256", prk).update(work.subarray(9)).update(work.subarray(0, 8)).update(work.subarray(8, 9)).digest();
  return leadingZeroBits(digest) >= challenge[1];
};

test("a report is sealed to the force, proved over and posted once: 201", async () => {
  const server = fakeServer();
  const { io, seen } = page(server);
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.equal(res.ok, true);
  assert.equal(res.id, "ab12");
  assert.equal(res.force.id, "demo");
  assert.deepEqual(seen, ["progress: send.locking", "solving 256 report", "posting"]);
  assert.equal(server.log.posts.length, 1);
  const [post] = server.log.posts;
  // The header is the challenge as received, then a nonce that solves it over this envelope.
  assert.equal(post.pow.split(".")[0], server.log.challenges[0]);
  assert.ok(checkPow(post), "the proof solves the challenge over the envelope posted");
  // The envelope is a kind-1 report to "demo" that the force's key opens to the payload.
  assert.equal(q.parseEnvelope(post.envelope).routing, "demo");
  assert.deepEqual(await q.openEnvelope(SK, q.KIND_REPORT, post.envelope), payload());
  // Every request: same origin, no cookies, no referrer, nothing cached.
  for (const { url, opts } of server.log.requests) {
    assert.match(url, /^\/api\/v1\//);
    assert.equal(opts.credentials, "omit");
    assert.equal(opts.referrerPolicy, "no-referrer");
    assert.equal(opts.cache, "no-store");
  }
  assert.equal(server.log.requests[1].opts.headers["Content-Type"], "application/octet-stream");
});

test("the check before sealing (keycheck.js): a refusal seals, fetches and posts nothing; it runs again for the new key after a 422", async () => {
  const server = fakeServer();
  const { io, seen } = page(server);
  const checked = [];
  io.check = async (f) => (checked.push(f.id), "bad_signature");
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.deepEqual(res, { ok: false, keycheck: "bad_signature", force: io.force("demo") });
  assert.deepEqual(checked, ["demo"]);
  assert.deepEqual(seen, ["progress: send.locking"]);
  assert.equal(server.log.requests.length, 0, "no challenge, no post");

  // Passing: sent; a 422 reloads, and the new key is checked before it is sealed to.
  const PK2 = (await q.deriveKeyPair(new Uint8Array(32).fill(5))).publicKey;
  const server2 = fakeServer({ posts: [json(422, { error: "unknown_key" }), json(201, { id: "cd34" })] });
  const p2 = page(server2, { reloads: [[{ id: "demo", publicKey: PK2 }]] });
  const keys = [];
  p2.io.check = async (f) => (keys.push(q.toHex(f.publicKey)), null);
  const res2 = await sealAndPost("demo", payload(), "report", p2.io);
  assert.equal(res2.ok, true);
  assert.deepEqual(keys, [q.toHex(PK), q.toHex(PK2)]);
});

test("difficulty 0: no worker, the header carries a zero nonce", async () => {
  const server = fakeServer({ difficulty: 0 });
  const log = {};
  const { io, seen } = page(server, { worker: fakeWorker(log) });
  const res = await sealAndPost("demo", payload(), "message", io);
  assert.equal(res.ok, true);
  assert.equal(log.started, undefined, "no worker started");
  assert.equal(server.log.posts[0].pow, `${server.log.challenges[0]}.AAAAAAAAAAAB`, "nonce 0, block 1");
  assert.ok(!seen.some((s) => s.startsWith("solving")));
});

test("a force not in the directory: nothing is fetched or sealed", async () => {
  const server = fakeServer();
  const { io } = page(server, { forces: null });
  assert.deepEqual(await sealAndPost("demo", payload(), "report", io), { ok: false, status: 404, error: "unknown_force" });
  assert.equal(server.log.requests.length, 0);
});

test("429 for an expired, spent or outdated proof: a new challenge over the same envelope, once", async () => {
  for (const error of ["pow_expired", "pow_spent", "pow_outdated"]) {
    const server = fakeServer({ posts: [json(429, { error, message: "m" }), json(201, { id: "cd34" })] });
    const res = await sealAndPost("demo", payload(), "report", page(server).io);
    assert.equal(res.ok, true, error);
    assert.equal(server.log.challenges.length, 2, `${error}: two challenges`);
    const [a, b] = server.log.posts;
    assert.deepEqual(a.envelope, b.envelope, `${error}: the same envelope, not sealed again`);
    assert.notEqual(a.pow, b.pow);
    assert.ok(checkPow(b));
  }
  // Twice: the second answer stands.
  const server = fakeServer({ posts: [json(429, { error: "pow_expired" })] });
  const res = await sealAndPost("demo", payload(), "report", page(server).io);
  assert.deepEqual([res.ok, res.status, res.error], [false, 429, "pow_expired"]);
  assert.equal(server.log.posts.length, 2);
  // Another 429 (a rate limit, not the proof): no new challenge.
  const other = fakeServer({ posts: [json(429, { error: "rate_limited" })] });
  assert.equal((await sealAndPost("demo", payload(), "report", page(other).io)).status, 429);
  assert.equal(other.log.posts.length, 1);
});

test("503: the same envelope with the same proof again after Retry-After, at most MAX_RETRIES times", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const server = fakeServer({ posts: [json(503, { error: "storage_unavailable" }, { "Retry-After": "2" })] });
    const waits = [];
    const { io, seen } = page(server, { onBusy: (secs) => { waits.push(secs); mock.timers.tick(secs * 1000); } });
    const res = await sealAndPost("demo", payload(), "report", io);
    assert.deepEqual([res.ok, res.status, res.error, res.retryAfter], [false, 503, "storage_unavailable", "2"]);
    assert.deepEqual(waits, Array(MAX_RETRIES).fill(2));
    assert.equal(server.log.posts.length, MAX_RETRIES + 1);
    assert.equal(server.log.challenges.length, 1, "one challenge: the proof is still good");
    assert.equal(new Set(server.log.posts.map((p) => q.toHex(p.envelope))).size, 1, "one envelope");
    assert.equal(new Set(server.log.posts.map((p) => p.pow)).size, 1, "one proof");
    assert.equal(seen.filter((s) => s === "posting").length, MAX_RETRIES + 1);
  } finally {
    mock.timers.reset();
  }
});

test("503 then stored: sent; pow_spent after a 503 means the earlier post was stored", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const busy = json(503, { error: "shutting_down" }, { "Retry-After": "1" });
    const tick = (secs) => mock.timers.tick(secs * 1000);
    let server = fakeServer({ posts: [busy, json(201, { id: "ef56" })] });
    let res = await sealAndPost("demo", payload(), "report", page(server, { onBusy: tick }).io);
    assert.deepEqual([res.ok, res.id, server.log.posts.length], [true, "ef56", 2]);

    server = fakeServer({ posts: [json(503, { error: "storage_unavailable" }, { "Retry-After": "1" }), json(429, { error: "pow_spent" })] });
    res = await sealAndPost("demo", payload(), "report", page(server, { onBusy: tick }).io);
    assert.equal(res.ok, true, "counts as sent");
    assert.equal(server.log.challenges.length, 1, "no new challenge: it would store the report twice");
  } finally {
    mock.timers.reset();
  }
});

test("422: the directory is reloaded and the payload sealed to the force's new key, once", async () => {
  const other = vectors.cases.find((c) => c.key_id !== demo.key_id && !("error" in c));
  const newKey = q.fromHex(other.recipient_pk);
  const server = fakeServer({ posts: [json(422, { error: "unknown_key" }), json(201, { id: "aa" })] });
  const { io, seen } = page(server, { reloads: [[{ id: "demo", publicKey: newKey }]] });
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.equal(res.ok, true);
  assert.ok(seen.includes("progress: send.new_key"));
  assert.equal(seen.filter((s) => s === "reload").length, 1);
  const [first, second] = server.log.posts;
  assert.deepEqual(await q.openEnvelope(SK, q.KIND_REPORT, first.envelope), payload());
  assert.deepEqual(await q.openEnvelope(q.fromHex(other.recipient_sk), q.KIND_REPORT, second.envelope), payload());
  assert.equal(res.force.publicKey, newKey);

  // Twice: the second 422 stands.
  const again = fakeServer({ posts: [json(422, { error: "retired_key" })] });
  const r2 = await sealAndPost("demo", payload(), "report", page(again).io);
  assert.deepEqual([r2.ok, r2.status, again.log.posts.length], [false, 422, 2]);
});

test("404: the directory is reloaded, and the failure stands", async () => {
  const server = fakeServer({ posts: [json(404, { error: "unknown_force" })] });
  const { io, seen } = page(server);
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.deepEqual([res.ok, res.status, res.error, res.force.id], [false, 404, "unknown_force", "demo"]);
  assert.equal(seen.filter((s) => s === "reload").length, 1);
});

test("Cancel while the worker searches: it is ended, and nothing is posted", async () => {
  const server = fakeServer();
  const log = { hang: true };
  const { io } = page(server, { worker: fakeWorker(log) });
  io.solving = () => queueMicrotask(() => assert.equal(stopWork({ cancelled: true }), true));
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.deepEqual(res, { cancelled: true });
  assert.equal(log.terminated, 1);
  assert.equal(server.log.posts.length, 0);
  assert.equal(stopWork({ cancelled: true }), false, "nothing left to stop");
});

test("Cancel while waiting to retry after a 503: nothing more is posted", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const server = fakeServer({ posts: [json(503, { error: "storage_unavailable" }, { "Retry-After": "5" })] });
    const { io } = page(server, { onBusy: () => stopWork({ cancelled: true }) });
    const res = await sealAndPost("demo", payload(), "report", io);
    assert.deepEqual(res, { cancelled: true });
    assert.equal(server.log.posts.length, 1);
  } finally {
    mock.timers.reset();
  }
});

test("the worker fails or cannot start: status -1; the challenge cannot be had: `challenge` set", async () => {
  let res = await sealAndPost("demo", payload(), "report", page(fakeServer(), { worker: () => { throw new Error("CSP"); } }).io);
  assert.deepEqual(res, { ok: false, status: -1, force: res.force });
  const failing = () => {
    const w = { postMessage: () => queueMicrotask(() => w.onerror(new Error("x"))), terminate() {} };
    return w;
  };
  res = await sealAndPost("demo", payload(), "report", page(fakeServer(), { worker: failing }).io);
  assert.deepEqual([res.ok, res.status], [false, -1]);

  const offline = { fetch: async () => { throw new TypeError("network"); } };
  res = await sealAndPost("demo", payload(), "report", page(offline).io);
  assert.deepEqual([res.ok, res.status, res.challenge], [false, 0, true]);
  const broken = fakeServer({ challenge: () => json(200, { challenge: "nonsense" }) });
  res = await sealAndPost("demo", payload(), "report", page(broken).io);
  assert.deepEqual([res.ok, res.status, res.challenge], [false, 500, true]);
  assert.equal(broken.log.posts.length, 0);
});

test("getChallenge and postReport read the answers as the page needs them", async () => {
  const server = fakeServer({ difficulty: 19 });
  const c = await getChallenge(server.fetch);
  assert.deepEqual([c.ok, c.difficulty, c.text, c.challenge.length], [true, 19, server.log.challenges[0], 58]);
  assert.deepEqual(await getChallenge(async () => json(503, {})), { ok: false, status: 503 });
  // A challenge of another version, or above 32 bits, is refused.
  const v2 = q.fromBase64url(challengeText(8));
  v2[0] = 2;
  assert.equal((await getChallenge(async () => json(200, { challenge: q.toBase64url(v2) }))).status, 500);
  assert.equal((await getChallenge(async () => json(200, { challenge: challengeText(33) }))).status, 500);

  const env = Uint8Array.of(1, 2, 3);
  assert.deepEqual(await postReport(async () => new Response("", { status: 201 }), env, "p"), { ok: true, id: undefined });
  assert.deepEqual(await postReport(async () => { throw new TypeError("x"); }, env, "p"), { ok: false, status: 0, error: "network" });
  // The server's message is not kept: the page says what happened in its own words.
  assert.deepEqual(await postReport(async () => json(400, { error: "truncated", message: "secret?" }), env, "p"),
    { ok: false, status: 400, error: "truncated", retryAfter: null });
});

test("several workers share the search: each its own nonces; the first answer ends them all", async () => {
  const server = fakeServer({ difficulty: 12 });
  const log = {};
  const { io } = page(server, { worker: fakeWorker(log) });
  io.threads = 3;
  let counts = [];
  io.tries = (n) => counts.push(n);
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.equal(res.ok, true);
  assert.equal(log.started, 3);
  assert.deepEqual(log.shares, [[0, 3], [1, 3], [2, 3]], "start i, stride 3");
  assert.equal(log.terminated, 3, "every worker is ended once one has answered");
  assert.ok(checkPow(server.log.posts[0]));
  assert.deepEqual(counts.slice(0, 3), [1, 2, 3], "the tries shown are the sum over the workers");
});

test("pause keeps the sealed envelope in memory; resume solves a new challenge and posts the same bytes", async () => {
  const server = fakeServer();
  const log = { hang: true };
  const { io, seen } = page(server, { worker: fakeWorker(log) });
  let solvings = 0;
  io.solving = () => {
    solvings++;
    if (solvings === 1) queueMicrotask(() => assert.equal(pauseWork(), true));
  };
  io.paused = () => {
    seen.push("paused");
    assert.equal(pauseWork(), false, "nothing to pause while paused");
    log.hang = false;
    queueMicrotask(() => assert.equal(resumeWork(), true));
  };
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.equal(res.ok, true);
  assert.equal(solvings, 2);
  assert.equal(seen.filter((x) => x === "paused").length, 1);
  assert.equal(seen.filter((x) => x === "progress: send.locking").length, 1, "sealed once, not again after the pause");
  assert.equal(server.log.challenges.length, 2, "a new challenge after the pause");
  assert.equal(server.log.posts.length, 1);
  assert.equal(server.log.posts[0].pow.split(".")[0], server.log.challenges[1]);
  assert.ok(checkPow(server.log.posts[0]));
  assert.equal(resumeWork(), false, "nothing left to resume");
});

test("Cancel while paused: nothing is posted", async () => {
  const server = fakeServer();
  const { io } = page(server, { worker: fakeWorker({ hang: true }) });
  io.solving = () => queueMicrotask(() => pauseWork());
  io.paused = () => queueMicrotask(() => assert.equal(stopWork({ cancelled: true }), true));
  const res = await sealAndPost("demo", payload(), "report", io);
  assert.deepEqual(res, { cancelled: true });
  assert.equal(server.log.posts.length, 0);
});

test("a search still running after REFRESH_MS starts again on a fresh challenge (not counted as a retry)", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const server = fakeServer();
    const log = { hang: true };
    const { io } = page(server, { worker: fakeWorker(log) });
    let solvings = 0;
    io.solving = () => {
      solvings++;
      if (solvings <= 3) queueMicrotask(() => mock.timers.tick(REFRESH_MS));
      else {
        log.hang = false;
        stopWork({ cancelled: true });
      }
    };
    const res = await sealAndPost("demo", payload(), "report", io);
    assert.deepEqual(res, { cancelled: true });
    assert.equal(solvings, 4, "three refreshes, then a fourth search: more than the one retry a 429 gets");
    assert.equal(server.log.challenges.length, 4);
    assert.equal(log.terminated, 4);
    assert.equal(server.log.posts.length, 0);
  } finally {
    mock.timers.reset();
  }
});
