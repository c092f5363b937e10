// The reporter page: replaces the no-JavaScript page and runs the whole
// journey in memory. Nothing is stored on the device (no cookies, no web
// storage); reloading or "Exit this page" forgets everything.
//
// Journey: start → force → what → where-when → people → how → check → sent;
// returning: code → replies (read, then send a follow-up) → follow-up-sent.
// Sending seals first, then shows a waiting screen over check (or replies)
// while a worker does the server's proof of work, then posts.
//
// This file draws the steps and reads their forms. The rules are elsewhere,
// without the DOM: which step follows which, what each checks, what check
// answers lists and the payloads (journey.js); sealing, the proof of work,
// posting and trying again (send.js).

// Imports in this order: the bundle keeps it, and this order compresses
// smallest (the page's budget, README.md).
import { checkReplyCode, formatSentAt } from "./validate.js";
import * as Q from "./quietline-crypto.js";
import {
  emptyReport, allowed as canShow, nextStep, CHECKS, checkFollowUp, checkRows, PERSON, VEHICLE,
  reportPayloadOf, followUpPayloadOf, lastReplier,
} from "./journey.js";
import { busyMessage } from "./retry.js";
import { CATEGORY_LABELS, HOW_KNOWN_LABELS, ONGOING_LABELS } from "./labels.js";
import { getForces, getSlot, getAssets } from "./api.js";
import { sealAndPost, stopWork, pauseWork, resumeWork } from "./send.js";
import { estimate, WAIT_TEXT } from "./wait.js";
import { installExit } from "./exit.js";
import { h, append, clear, para, linkButton, hidden } from "./dom.js";

const SERVICE = "Quietline";
const MAX_SLOTS = 1000;

// ---------------------------------------------------------------- state

// The page's state. Fields not set here start unset (each is read only
// as true or false until it is set):
//   step            the step shown (VIEWS), set by boot, go() and Back/Forward
//   forces          [{ id, name, keyId, publicKey }] once loaded
//   forcesFailed    the directory could not be loaded
//   loadingForces   the promise while it loads
//   changing        came from a Change link: Continue returns to check
//   errors          [{ id?, group?, text }] shown on the current step
//   pendingCode     reply code of the report being sent, until 201
//   busy            a send is under way
//   progress        what the send is doing, under its button
//   waiting         the waiting screen while sending: { what, expected, tries, status, started, posting }
//   sent            { words, forceName } on the confirmation page
//   codeText        the reply code as typed, until it is checked
//   secrets         derived from the reply code on the replies page
//   replies         { list, done, failed }
//   followSent      the force's name on the follow-up confirmation
const freshState = () => ({
  r: emptyReport(), // the report's answers (journey.js)
  follow: { forceId: "", message: "" }, // the follow-up form
});

let S = freshState();

/** Overwrite the secrets derived from a reply code, if any. */
function forgetSecrets() {
  if (S.secrets) Q.wipeSecrets(S.secrets);
}

function wipeState() {
  cancelWork(true);
  if (S.pendingCode) S.pendingCode.fill(0);
  forgetSecrets();
  S = freshState();
}

// ---------------------------------------------------------------- routing

let main;

/** Which steps can be shown with what is in memory now (journey.js). */
const allowed = (step) => step in VIEWS && canShow(step, S);

/** Show a step as a new history entry, focus on its heading. */
function go(step) {
  if (!allowed(step)) step = "start";
  S.step = step;
  S.errors = null;
  S.progress = "";
  history.pushState({ step }, "");
  render(true);
  window.scrollTo(0, 0);
}

function render(focus) {
  const view = S.waiting ? viewWaiting : VIEWS[S.step] || VIEWS.start;
  clear(main);
  const { title, body } = view();
  if (S.errors && S.errors.length) main.append(errorSummary(S.errors));
  append(main, [body]);
  document.title = `${S.errors && S.errors.length ? "Error: " : ""}${title} – ${SERVICE}`;
  if (!focus) return;
  const target = main.querySelector(".error-summary") || main.querySelector("h1");
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus();
  }
}

/** Show errors on the current step, keeping every value typed. */
function fail(errors) {
  S.errors = errors;
  render(true);
}

function back() {
  return h("p", {}, linkButton("Back", () => history.back(), { class: "link back" }));
}

// ---------------------------------------------------------------- components

function errorSummary(errors) {
  return h("div", { class: "error-summary", "aria-labelledby": "error-summary-title" },
    h("h2", { id: "error-summary-title" }, "There is a problem"),
    h("ul", {}, errors.map((e) =>
      h("li", {}, e.id
        ? h("a", { href: `#${e.id}`, on: { click: (ev) => { ev.preventDefault(); focusField(e.id); } } }, e.text)
        : e.text))));
}

function focusField(id) {
  const el = document.getElementById(id);
  if (!el) return;
  el.focus();
  const group = el.closest(".form-group");
  const label = group && group.querySelector("legend, label");
  (label || el).scrollIntoView({ block: "start" });
}

function errorFor(id) {
  const e = S.errors && S.errors.find((x) => x.id === id || x.group === id);
  return e ? e.text : "";
}

function errorMessage(id, text) {
  return text ? h("p", { class: "error-message", id: `${id}-error` }, hidden("Error: "), text) : null;
}

function describedBy(id, hint, err) {
  return [hint && `${id}-hint`, err && `${id}-error`].filter(Boolean).join(" ") || null;
}

/** A text input or textarea with label, hint and inline error. */
function field({ id, label, hint, value, textarea, rows, width, labelClass, extra }) {
  const err = errorFor(id);
  const attrs = {
    id, name: id, value: value || "", class: `${textarea ? "textarea" : "input"}${width ? ` w-${width}` : ""}${err ? " invalid" : ""}`,
    "aria-describedby": describedBy(id, hint, err), autocomplete: "off", spellcheck: textarea ? "true" : "false",
    ...extra,
  };
  if (err) attrs["aria-invalid"] = "true";
  const control = textarea ? h("textarea", { ...attrs, rows }) : h("input", { type: "text", ...attrs });
  return h("div", { class: `form-group${err ? " has-error" : ""}` },
    h("label", { for: id, class: labelClass || "label" }, label),
    hint && h("p", { class: "hint", id: `${id}-hint` }, hint),
    errorMessage(id, err),
    control);
}

/**
 * Radios in a fieldset. options: [{ value, label, hint, reveal }]; reveal is
 * a function returning nodes shown only while that option is chosen.
 * The first radio has the id `name`, for the error summary link.
 */
function radios({ name, legend, asH1, hint, options, value, small }) {
  const err = errorFor(name);
  const items = options.map((o, i) => {
    const id = i === 0 ? name : `${name}-${i + 1}`;
    const hintId = o.hint ? `${id}-item-hint` : null;
    const panelId = o.reveal ? `${id}-reveal` : null;
    const input = h("input", {
      type: "radio", id, name, value: o.value, checked: value === o.value,
      "aria-describedby": hintId, "aria-controls": panelId,
    });
    return [
      h("div", { class: "choice" }, input, h("label", { for: id }, o.label),
        o.hint && h("p", { class: "hint choice-hint", id: hintId }, o.hint)),
      o.reveal && h("div", { class: "conditional", id: panelId, hidden: value !== o.value }, o.reveal()),
    ];
  });
  const fs = h("fieldset", { class: "fieldset", "aria-describedby": describedBy(name, hint, err) },
    h("legend", { class: asH1 ? "legend-h1" : small ? "legend-s" : "legend-m" }, asH1 ? h("h1", {}, legend) : legend),
    hint && h("p", { class: "hint", id: `${name}-hint` }, hint),
    errorMessage(name, err),
    h("div", { class: `choices${small ? " inline" : ""}` }, items));
  // Show the panel of the chosen option only.
  fs.addEventListener("change", (e) => {
    if (!(e.target instanceof HTMLInputElement) || e.target.name !== name) return;
    for (const p of fs.querySelectorAll(`:scope > .choices > .conditional`)) {
      p.hidden = p.id !== `${e.target.id}-reveal`;
    }
  });
  return h("div", { class: `form-group${err ? " has-error" : ""}` }, fs);
}

function button(text, onClick, cls = "", extra) {
  return h("button", { type: onClick ? "button" : "submit", class: `button ${cls}`.trim(), on: onClick ? { click: onClick } : null, ...extra }, text);
}

/** A form that never submits to the server: its handler reads and checks. */
function form(onSubmit, ...children) {
  return h("form", { novalidate: true, autocomplete: "off", on: { submit: (e) => { e.preventDefault(); onSubmit(e.currentTarget); } } }, children);
}

const val = (f, name) => {
  const el = f.elements[name];
  if (!el) return "";
  if (el instanceof RadioNodeList) return el.value || "";
  if (el.type === "radio") return el.checked ? el.value : "";
  return el.value;
};

const forceById = (id) => S.forces && S.forces.find((f) => f.id === id);
const forceName = (id) => (forceById(id) || {}).name || id || "";

// ---------------------------------------------------------------- start

function viewStart() {
  return {
    title: "Tell the police something anonymously",
    body: [
      h("h1", {}, "Tell the police something anonymously"),
      h("p", { class: "lead" }, "Use this service to tell a UK police force about a crime, or about something that worries you, without giving your name."),
      h("div", { class: "warning" },
        h("strong", {}, hidden("Warning: "), "This service is not for emergencies. If someone is in danger or a crime is happening now, call 999.")),
      h("h2", {}, "How your report stays anonymous"),
      h("p", {}, "Your report is locked (encrypted) on this device before it is sent. Only the police force you choose can unlock and read it. The people who run this website cannot read it."),
      h("p", {}, "What the service keeps:"),
      h("ul", { class: "list" },
        h("li", {}, "your locked report (it includes the time you sent it, to the minute, which only the police force can see)"),
        h("li", {}, "which police force it is for"),
        h("li", {}, "the date it arrived, so it can be deleted after a set time")),
      h("p", {}, "What the service does not keep:"),
      h("ul", { class: "list" },
        h("li", {}, "your name, unless you put it in your report"),
        h("li", {}, "your IP address, or details of your device or browser"),
        h("li", {}, "the exact time you sent it")),
      h("p", {}, "This page uses no cookies and saves nothing on your device. Your internet provider, or anyone who can see this device, may still be able to see that you visited this website. Tor Browser hides that."),
      h("p", {}, "Do not put your name, or anything that could identify you, in your report unless you want to."),
      h("h2", {}, "If the police want to reply"),
      h("p", {}, "When you send your report you will get a reply code: 12 words. Write them down and keep them safe. The police can send you questions or updates without knowing who you are."),
      h("p", {}, "To read them, come back to this page, choose ‘Check for replies’ and enter your 12 words. Anyone who has your words can read the replies. If you lose them, nobody can give them to you again."),
      button("Start now", () => go("force"), "start"),
      h("h2", {}, "Already sent a report?"),
      h("p", {}, "Use your 12-word reply code to read replies from the police and answer them."),
      button("Check for replies", () => go("code"), "secondary"),
    ],
  };
}

// ---------------------------------------------------------------- force

async function loadForces() {
  S.forcesFailed = false;
  try {
    S.forces = await getForces();
  } catch {
    S.forces = null;
    S.forcesFailed = true;
  }
}

/** The force question, shared by the report and the follow-up. */
function forceQuestion(name, value, legend, asH1, hint) {
  if (!S.forces || !S.forces.length) {
    let text = "No police forces can receive reports through this service at the moment. Try again later.";
    let retry = null;
    if (S.forcesFailed) {
      text = "We could not load the list of police forces. Check your internet connection and try again.";
      retry = button("Try again", () => { S.forcesFailed = false; S.forces = null; render(true); }, "secondary");
    } else if (!S.forces) {
      text = "Loading the list of police forces…";
      if (!S.loadingForces) {
        const step = S.step;
        S.loadingForces = loadForces().finally(() => {
          S.loadingForces = null;
          // Keep focus where it was: on the heading of the page being shown.
          const a = document.activeElement;
          if (S.step === step) render(!a || a === document.body || main.contains(a));
        });
      }
    }
    return [h(asH1 ? "h1" : "h2", {}, legend), h("p", { role: "status" }, text), retry];
  }
  return radios({
    name, legend, asH1, hint, value,
    options: S.forces.map((f) => ({ value: f.id, label: f.name })),
  });
}

function viewForce() {
  const body = [back()];
  const q = forceQuestion("force", S.r.forceId, "Which police force do you want to tell?", true,
    "Choose the force for the area where it happened. If you are not sure, choose the force for where you live.");
  const ready = S.forces && S.forces.length;
  body.push(ready ? form((f) => {
    S.r.forceId = val(f, "force");
    answered("force");
  }, q, button("Continue")) : q);
  return { title: "Which police force do you want to tell?", body };
}

/** A question's form is read into S.r: show its errors, or the next step. */
function answered(step) {
  const errors = CHECKS[step](S.r);
  if (errors.length) return fail(errors);
  go(nextStep(step, S.r, S.changing));
}

// ---------------------------------------------------------------- what

function viewWhat() {
  const r = S.r;
  return {
    title: "What happened?",
    body: [
      back(),
      h("h1", {}, "What happened?"),
      form((f) => {
        r.category = val(f, "category");
        r.details = val(f, "details");
        answered("what");
      },
      radios({
        name: "category", legend: "What is it about?", value: r.category,
        hint: "Choose the closest. If it is more than one, choose the most serious.",
        options: Q.CATEGORIES.map((c) => ({ value: c, label: CATEGORY_LABELS[c][0], hint: CATEGORY_LABELS[c][1] || null })),
      }),
      field({
        id: "details", label: "Tell us what happened", labelClass: "label-m", textarea: true, rows: 8, value: r.details,
        hint: "Say what you know, in your own words: who, what, where and when. Leave out anything that could identify you, unless you want to include it.",
      }),
      button("Continue")),
    ],
  };
}

// ---------------------------------------------------------------- where and when

function viewWhereWhen() {
  const r = S.r;
  const dateErr = errorFor("date");
  // The date error's id names the one field of the three to fix.
  const dateField = (part, label, width, value) => {
    const id = `date-${part}`;
    const bad = errorFor(id);
    return h("div", { class: "date-item" },
      h("label", { class: "label", for: id }, label),
      h("input", {
        type: "text", id, name: id, value, inputmode: "numeric", autocomplete: "off",
        class: `input w-${width}${bad ? " invalid" : ""}`,
        "aria-invalid": bad ? "true" : null,
      }));
  };
  const whenDetails = () => [
    h("div", { class: `form-group${dateErr ? " has-error" : ""}` },
      h("fieldset", { class: "fieldset", "aria-describedby": describedBy("date", true, dateErr) },
        h("legend", { class: "legend-s" }, "Date (optional)"),
        h("p", { class: "hint", id: "date-hint" }, "For example, 20 11 2026"),
        errorMessage("date", dateErr),
        h("div", { class: "date" },
          dateField("day", "Day", 2, r.day), dateField("month", "Month", 2, r.month), dateField("year", "Year", 4, r.year)))),
    field({ id: "time", label: "Time (optional)", hint: "For example, 22:15 or 10:15pm", value: r.time, width: 5 }),
    field({ id: "when-text", label: "Describe when (optional)", hint: "For example, ‘most Friday nights since March’", value: r.whenText, textarea: true, rows: 2 }),
  ];
  return {
    title: "Where and when",
    body: [
      back(),
      h("h1", {}, "Where and when"),
      form((f) => {
        r.whereKnown = val(f, "where-known");
        r.where = val(f, "where");
        r.whenKnown = val(f, "when-known");
        r.day = val(f, "date-day");
        r.month = val(f, "date-month");
        r.year = val(f, "date-year");
        r.time = val(f, "time");
        r.whenText = val(f, "when-text");
        r.ongoing = val(f, "ongoing");
        answered("where-when");
      },
      radios({
        name: "where-known", legend: "Do you know where it happened?", value: r.whereKnown,
        options: [
          { value: "yes", label: "Yes", reveal: () => field({ id: "where", label: "Where did it happen?", hint: "An address, a street, a landmark, or a description of the place", value: r.where, textarea: true, rows: 3 }) },
          { value: "no", label: "No, I do not know" },
        ],
      }),
      radios({
        name: "when-known", legend: "Do you know when it happened?", value: r.whenKnown,
        options: [
          { value: "yes", label: "Yes", reveal: whenDetails },
          { value: "no", label: "No, I do not know" },
        ],
      }),
      radios({
        name: "ongoing", legend: "Is it still happening?", value: r.ongoing, small: true,
        options: Object.entries(ONGOING_LABELS).map(([value, label]) => ({ value, label })),
      }),
      button("Continue")),
    ],
  };
}

// ---------------------------------------------------------------- people and vehicles

// PERSON and VEHICLE (journey.js): [payload field, label, hint, textarea?, label on the check page]
function readPeople(f) {
  for (const [list, fields, key] of [[S.r.people, PERSON, "person"], [S.r.vehicles, VEHICLE, "vehicle"]]) {
    list.forEach((item, i) => {
      for (const [k] of fields) item[k] = val(f, `${key}-${i + 1}-${k}`);
    });
  }
}

function viewPeople() {
  const r = S.r;
  let formEl;
  const group = (list, fields, key, noun) => list.map((item, i) =>
    h("fieldset", { class: "fieldset item" },
      h("legend", { class: "legend-s" }, `${noun} ${i + 1}`),
      fields.map(([k, label, hint, ta]) => field({ id: `${key}-${i + 1}-${k}`, label, hint, value: item[k], textarea: ta, rows: 3 })),
      linkButton(["Remove", hidden(` ${noun.toLowerCase()} ${i + 1}`)], () => {
        readPeople(formEl);
        list.splice(i, 1);
        render(false);
        const add = document.getElementById(`add-${key}`);
        if (add) add.focus();
      })));
  const add = (list, fields, key, noun) => button(`Add ${list.length ? "another" : "a"} ${noun}`, () => {
    readPeople(formEl);
    list.push(Object.fromEntries(fields.map(([k]) => [k, ""])));
    render(false);
    const first = document.getElementById(`${key}-${list.length}-${fields[0][0]}`);
    if (first) first.focus();
  }, "secondary", { id: `add-${key}` });
  formEl = form((f) => {
    readPeople(f);
    answered("people");
  },
  h("h2", {}, "People"),
  h("p", { class: "hint" }, "Anyone involved, if you know anything about them."),
  group(r.people, PERSON, "person", "Person"),
  add(r.people, PERSON, "person", "person"),
  h("h2", {}, "Vehicles"),
  h("p", { class: "hint" }, "Any cars, vans, motorbikes or other vehicles involved."),
  group(r.vehicles, VEHICLE, "vehicle", "Vehicle"),
  add(r.vehicles, VEHICLE, "vehicle", "vehicle"),
  h("div", { class: "actions" }, button("Continue")));
  return {
    title: "People and vehicles",
    body: [
      back(),
      h("h1", {}, "People and vehicles (optional)"),
      h("p", {}, "Tell us about any people or vehicles involved. If you do not know, or would rather not say, select Continue."),
      formEl,
    ],
  };
}

// ---------------------------------------------------------------- how they know

function viewHow() {
  const r = S.r;
  return {
    title: "How do you know about this?",
    body: [
      back(),
      form((f) => {
        r.howKnown = val(f, "how");
        r.howDetails = val(f, "how-details");
        answered("how");
      },
      radios({
        name: "how", legend: "How do you know about this?", asH1: true, value: r.howKnown,
        options: Q.HOW_KNOWN.map((v) => ({ value: v, label: HOW_KNOWN_LABELS[v] })),
      }),
      field({
        id: "how-details", label: "Tell us more about how you know (optional)", textarea: true, rows: 3, value: r.howDetails,
        hint: "Only if you want to. Leave out anything that could identify you.",
      }),
      button("Continue")),
    ],
  };
}

// ---------------------------------------------------------------- check answers

/** People or vehicles on check answers (journey.js listSummary): "None given", or a list. */
function listSummary(value) {
  if (!Array.isArray(value)) return value;
  return h("ul", { class: "list plain" }, value.map((lines) => h("li", {}, lines.map((line) => h("span", { class: "pre block" }, line)))));
}

function viewCheck() {
  const r = S.r;
  const row = (key, value, step, what = key.toLowerCase()) => h("div", { class: "summary-row" },
    h("dt", {}, key),
    h("dd", { class: "pre" }, listSummary(value)),
    h("dd", { class: "summary-action" }, linkButton(["Change", hidden(` ${what}`)], () => { S.changing = true; go(step); })));
  const progress = h("p", { class: "progress", role: "status", id: "progress" }, S.progress);
  const sendButton = button("Send report", sendReport, "", { id: "send", "aria-describedby": "progress" });
  return {
    title: "Check your answers before sending your report",
    body: [
      back(),
      h("h1", {}, "Check your answers before sending your report"),
      h("dl", { class: "summary" },
        checkRows(r, forceName(r.forceId)).map((a) => row(...a))),
      h("h2", {}, "Now send your report"),
      h("p", {}, `When you select ‘Send report’, your report is locked on this device so that only ${forceName(r.forceId)} can read it, and then sent.`),
      sendButton,
      progress,
    ],
  };
}

function setProgress(text) {
  S.progress = text;
  const p = document.getElementById("progress");
  if (p) p.textContent = text;
}

/** Mark the send button busy in place, so keyboard focus stays on it. */
function setBusy(busy) {
  S.busy = busy;
  const b = document.getElementById("send");
  if (b) {
    if (busy) b.setAttribute("aria-disabled", "true");
    else b.removeAttribute("aria-disabled");
  }
}

// ---------------------------------------------------------------- proof of work

/**
 * Cancel the proof of work or the wait to retry, if one runs (send.js):
 * nothing is sent, and the waiting screen goes. `quiet`: the page is being
 * left, so send() shows nothing.
 */
function cancelWork(quiet) {
  if (stopWork({ cancelled: true, quiet })) S.waiting = null;
}

const WAITING = [
  "Preparing to send securely… this usually takes a few seconds.",
  "Still preparing… this can take up to a minute on an older or busy device. Nothing has been sent yet.",
];

/**
 * How far the search is, in per cent: the chance that it would have found a
 * solution by now (1 − e^(−tries / expected tries)), never above 95 until it
 * has.
 */
const percent = (w) => (w.posting ? 100 : Math.min(95, Math.floor(100 - 100 * Math.exp(-w.tries / w.expected))));

/** The worker's count of tries: the bar moves; the status changes once, after 10 seconds. */
function progress(tries) {
  const w = S.waiting;
  const bar = document.getElementById("pow-progress");
  if (!w || !bar) return;
  w.tries = tries;
  bar.value = percent(w);
  if (Date.now() - w.started > 10000 && w.status === WAITING[0]) setWaiting(WAITING[1]);
  showEstimate(w);
}

function setWaiting(text) {
  S.waiting.status = document.getElementById("pow-status").textContent = text;
}

/** The workers have started: the waiting screen, over the step. */
function solving(expected, what) {
  const before = S.waiting;
  S.waiting = { what, expected, tries: 0, started: Date.now(), status: WAITING[0] };
  // Started again on a fresh challenge (send.js, REFRESH_MS): the notice
  // that it is long stays, and is not announced again.
  if (before && before.long && !before.paused) Object.assign(S.waiting, { long: true, status: before.status });
  render(true);
}

/**
 * After a 503 the waiting screen says, in words, that the service is busy,
 * when the page tries again and that the report is kept, with Cancel back.
 * Changed in place, so the polite status region announces it; only the
 * Cancel button comes back (sending() takes it away again). With proof of
 * work off (local development only) there is no waiting screen, and the page
 * just waits.
 */
function busy(secs) {
  const el = S.waiting && document.getElementById("pow-status");
  if (el) {
    setWaiting(busyMessage(secs, S.waiting.what));
    el.after(cancelButton());
  }
}

/** Solved: the waiting screen says it is sending, and can no longer be cancelled. */
function sending() {
  const w = S.waiting;
  if (!w) return setProgress("Sending the locked message…");
  const cancel = document.getElementById("cancel");
  if (cancel) {
    if (document.activeElement === cancel) main.querySelector("h1").focus();
    cancel.remove();
  }
  w.posting = true;
  document.getElementById("pow-progress").value = 100;
  setWaiting(`Sending your ${w.what}…`);
}

function cancelButton() {
  return button("Cancel sending", () => cancelWork(), "secondary", { id: "cancel" });
}

function viewWaiting() {
  const w = S.waiting;
  if (w.paused) return viewPaused(w);
  const title = `Preparing to send your ${w.what}`;
  return {
    title,
    body: [
      h("h1", {}, title),
      h("p", {}, `Your ${w.what} is locked. Before it is sent, this device has to do a calculation. This protects the service from floods of automated messages. It sends nothing about you.`),
      h("label", { class: "label-s", for: "pow-progress" }, "Progress"),
      h("progress", { id: "pow-progress", max: "100", value: String(percent(w)) }),
      h("p", { class: "progress", role: "status", id: "pow-status" }, w.status),
      h("p", { class: "hint", id: "pow-estimate" }, w.posting ? "" : w.estimate || ""),
      !w.posting && w.long && pauseButton(),
      !w.posting && cancelButton(),
    ],
  };
}

// ---------------------------------------------------------------- time left, pausing

/**
 * The estimate of the time left (wait.js), under the bar, updated quietly;
 * once it is long, the status says so (announced once) and Pause appears.
 */
function showEstimate(w) {
  const e = estimate(w.tries, Date.now() - w.started, w.expected);
  const el = document.getElementById("pow-estimate");
  if (!e || !el) return;
  w.estimate = el.textContent = WAIT_TEXT.estimate(e);
  if (e.long && !w.long) {
    w.long = true;
    setWaiting(WAIT_TEXT.long({ mean: e.mean, what: w.what }));
    const cancel = document.getElementById("cancel");
    if (cancel) cancel.before(pauseButton());
  }
}

function pauseButton() {
  return button(WAIT_TEXT.pause, () => pauseWork(), "secondary", { id: "pause" });
}

/** Paused (send.js holds the sealed envelope in memory): the paused screen. */
function paused() {
  S.waiting.paused = true;
  render(true);
}

function viewPaused(w) {
  const title = WAIT_TEXT.pausedTitle(w);
  return {
    title,
    body: [
      h("h1", {}, title),
      h("p", {}, WAIT_TEXT.paused(w)),
      button(WAIT_TEXT.resume, () => resumeWork(), "", { id: "resume" }),
      cancelButton(),
    ],
  };
}

/** What send.js needs from the page: fetch, the worker, the directory, and what the reporter is shown. */
const SENDING = {
  fetch,
  worker: () => new Worker("/pow-worker.js"),
  // One search per core the browser reports, at most 4 (it reports 2 when
  // it resists fingerprinting, as Tor Browser does).
  threads: Math.min(4, Math.max(1, navigator.hardwareConcurrency || 2)),
  paused,
  force: forceById,
  reload: loadForces,
  progress: setProgress,
  solving,
  tries: progress,
  busy,
  posting: sending,
};

/** Plain words for a failed send (FORMAT.md#errors for the 400 codes). */
function sendError(res, name) {
  const nothing = ", so nothing was sent.";
  if (res.challenge && !res.status) return `We could not reach the service${nothing} Check your internet connection and try again.`;
  switch (res.status) {
    case -1: return `This page could not prepare your message for sending${nothing} Try again, or use another up-to-date browser.`;
    case 0: return "The connection to the service failed, so your message may not have arrived. Check your internet connection and try again.";
    case 404: return `${name || "That police force"} cannot receive messages through this service at the moment${nothing} Choose another police force, or try again later.`;
    case 413: return "What you wrote is too large to send. Make it shorter, then try again.";
    case 422: return `${name || "The police force"} has changed its key and your message could not be locked to the new one${nothing} Try again later.`;
    // 503: still busy after the page's own retries (retry.js, send.js).
    case 429: case 503: return `The service is busy${nothing} Wait a few minutes, then try again.`;
    case 400:
      if (res.error === "invalid_force_id") return "Choose the police force again from the list, then try again.";
      if (res.error === "unknown_version" || res.error === "unknown_suite") {
        return "This page is out of date. Copy anything you want to keep, reload the page, then try again.";
      }
      if (res.error === "truncated" || res.error === "bad_ciphertext_length") return `Your message did not arrive whole${nothing} Send it again.`;
      return `The service could not accept your message${nothing} Try again later.`;
    default: return `The service is not working at the moment${nothing} Try again later.`;
  }
}

/** A lazily loaded part of the page (words.js, pq.js) could not be fetched: offline. */
const LOAD_FAILED = "This page could not load a part it needs. Check your internet connection, then try again";

/**
 * Seal and send a payload to a force, keeping everything typed on failure.
 * `make()` returns the payload bytes; `done(res)` runs on 201.
 */
async function send(forceId, make, done, what) {
  if (S.busy) return;
  setBusy(true);
  let text;
  try {
    const payload = await make();
    const res = await sealAndPost(forceId, payload, what, SENDING);
    payload.fill(0);
    S.waiting = null;
    setBusy(false);
    if (res.ok) return done(res);
    if (res.cancelled) {
      // Back where the reporter was, with everything kept and nothing sent
      // (unless the page is being left: Exit this page).
      if (res.quiet) return;
      S.progress = "You cancelled sending. Nothing was sent.";
      return render(true);
    }
    text = sendError(res, forceName(forceId));
  } catch (e) {
    cancelWork();
    S.waiting = null;
    setBusy(false);
    text = e && e.code === "too_large"
      ? "What you wrote is too long to send. Make it shorter, then try again."
      : e && e.code === "load" ? `${LOAD_FAILED}, so nothing was sent.`
      : "Your message could not be locked on this device, so nothing was sent. Try again, or use another up-to-date browser.";
  }
  S.progress = "";
  fail([{ text: `${text} Everything you typed is still here.` }]);
}

function sendReport() {
  return send(S.r.forceId, async () => {
    // The words are shown once it is sent: have them before it is.
    await Q.loadWords();
    if (!S.pendingCode) S.pendingCode = Q.generateReplyCode();
    const secrets = await Q.deriveReplySecrets(S.pendingCode, forceById(S.r.forceId)?.publicKey);
    secrets.replyPrivateKey.fill(0);
    return reportPayloadOf(S.r, Q.sentAtNow(), Q.replyMaterial(secrets));
  }, (res) => {
    S.sent = { words: Q.replyCodeToWords(S.pendingCode).split(" "), forceName: res.force.name };
    S.pendingCode.fill(0);
    S.pendingCode = null;
    S.r = emptyReport();
    S.changing = false;
    go("sent");
  }, "report");
}

// ---------------------------------------------------------------- confirmation

function viewSent() {
  const { words, forceName: name } = S.sent;
  return {
    title: "Report sent",
    body: [
      h("div", { class: "panel" }, h("h1", {}, "Report sent"), h("p", {}, `Your report was locked and sent to ${name}.`)),
      h("h2", {}, "Your reply code"),
      h("p", {}, "Write down these 12 words, in this order. You need them to read replies from the police."),
      h("ol", { class: "reply-code", "aria-label": "Your reply code, 12 words" }, words.map((w) => h("li", {}, w))),
      h("h2", {}, "Keep your reply code safe"),
      h("ul", { class: "list" },
        h("li", {}, "Write the words on paper and keep it somewhere only you can find."),
        h("li", {}, "Anyone who has these words can read the replies to your report and answer them as you."),
        h("li", {}, "Do not take a photo or screenshot of them on a device other people use."),
        h("li", {}, "This page will not show them again, and nobody can find them for you. If you lose them, you can send a new report.")),
      h("h2", {}, "What happens next"),
      h("p", {}, `${name} will read your report. They may send you a question or an update. They do not know who you are and cannot contact you any other way.`),
      h("p", {}, "Come back to this page in a few days, choose ‘Check for replies’ and enter your 12 words."),
      h("p", {}, "When you close this page, nothing about your report stays on this device."),
      button("Finish", () => { wipeState(); go("start"); }, "secondary"),
    ],
  };
}

// ---------------------------------------------------------------- returning: the code

function viewCode() {
  return {
    title: "Check for replies",
    body: [
      back(),
      h("h1", {}, "Check for replies"),
      h("p", {}, "Enter the reply code you were given when you sent your report."),
      form(async (f) => {
        S.codeText = val(f, "code");
        try {
          await Q.loadWords();
        } catch {
          return fail([{ id: "code", text: `${LOAD_FAILED}. Your words are still here` }]);
        }
        const res = checkReplyCode(S.codeText);
        if (res.error) return fail([{ id: "code", text: res.error }]);
        forgetSecrets();
        S.secrets = await Q.deriveReplySecrets(res.entropy);
        res.entropy.fill(0);
        S.codeText = "";
        S.replies = null;
        S.follow = { forceId: "", message: "" };
        go("replies");
      },
      field({
        id: "code", label: "Your 12-word reply code", labelClass: "label-m", textarea: true, rows: 3, value: S.codeText,
        hint: "Type or paste the 12 words in order, with spaces between them. Capital letters do not matter.",
        extra: { autocapitalize: "none", autocorrect: "off", spellcheck: "false" },
      }),
      h("p", { class: "hint" }, "Your words stay on this device. The page uses them to find and unlock your replies, and asks for each reply separately."),
      button("Check for replies")),
    ],
  };
}

// ---------------------------------------------------------------- returning: replies and follow-up

async function loadReplies() {
  const state = { list: [], done: false, failed: false };
  S.replies = state;
  const secrets = S.secrets;
  for (let i = 0; i < MAX_SLOTS; i++) {
    if (S.replies !== state || S.secrets !== secrets) return; // left, or exited
    const address = await Q.slotAddress(secrets.slotKey, i);
    const hex = Q.toHex(address);
    let bytes;
    try {
      bytes = await getSlot(hex);
    } catch {
      state.failed = true;
      break;
    }
    if (!bytes) break;
    try {
      // The envelope must be routed to the slot it came from, so the server
      // cannot move replies between slots.
      const env = Q.parseEnvelope(bytes);
      if (env.kind !== Q.KIND_REPLY || Q.toHex(env.routing) !== hex) throw new Error("misrouted");
      state.list.push({ ok: true, ...(await Q.openReply(secrets, bytes)) });
    } catch {
      state.list.push({ ok: false });
    }
    const p = document.getElementById("replies-progress");
    if (p && S.replies === state) p.textContent = `Checking for replies… found ${state.list.length} so far.`;
  }
  if (S.replies !== state) return;
  state.done = true;
  // Pre-select the force that last replied, when its name is in the directory.
  if (!S.forces) await loadForces();
  if (!S.follow.forceId && S.forces) S.follow.forceId = lastReplier(state.list, S.forces);
  if (S.step === "replies") render(true);
}

/** Check the slots again, keeping a follow-up being typed. */
function recheck() {
  const form = main.querySelector("form");
  if (form) {
    S.follow.forceId = val(form, "follow-force") || S.follow.forceId;
    S.follow.message = val(form, "message");
  }
  S.replies = null;
  render(true);
}

function viewReplies() {
  const st = S.replies;
  if (!st) loadReplies();
  if (!st || !st.done) {
    return {
      title: "Checking for replies",
      body: [h("h1", {}, "Checking for replies"), h("p", { role: "status", id: "replies-progress" }, "Checking for replies…")],
    };
  }
  const body = [];
  const found = st.list.length;
  const title = found ? "Replies to your report" : "No replies yet";
  if (st.failed) {
    body.push(h("h1", {}, "We could not check all your replies"),
      h("p", {}, "The connection to the service failed part way through. Check your internet connection and try again."),
      button("Try again", recheck, "secondary"));
  } else {
    body.push(h("h1", {}, title));
    if (!found) body.push(h("p", {}, "There are no replies to your report yet. Police forces can take several days to reply. Check again later."));
  }
  if (found) {
    body.push(h("p", {}, "Your own messages are not shown here: they are locked so that only the police can read them."),
      h("ol", { class: "conversation" }, st.list.map((m, i) => h("li", { class: "message" },
        m.ok
          ? [h("h2", {}, `Reply ${i + 1} from ${m.from}`), h("p", { class: "meta" }, `Sent ${formatSentAt(m.sent_at)}`), para(m.message)]
          : [h("h2", {}, `Reply ${i + 1}`), h("p", {}, "This reply could not be unlocked. It may have been damaged on the way.")]))));
  }
  body.push(h("h2", {}, "Send a message to the police"),
    h("p", {}, "Answer a question, or add something to your report. The police will know it comes from the same person as your report, but not who you are."));
  const f = S.follow;
  const ready = S.forces && S.forces.length;
  const q = forceQuestion("follow-force", f.forceId, "Which police force is it for?", false, "Choose the force you sent your report to.");
  body.push(ready ? form(async (el) => {
    f.forceId = val(el, "follow-force");
    f.message = val(el, "message");
    const errors = checkFollowUp(f);
    if (S.busy) return;
    if (errors.length) return fail(errors);
    await sendFollowUp();
  }, q,
  field({ id: "message", label: "Your message", labelClass: "label-s", textarea: true, rows: 6, value: f.message,
    hint: "Leave out anything that could identify you, unless you want to include it." }),
  button("Send message", null, "", { id: "send", "aria-describedby": "progress" }),
  h("p", { class: "progress", role: "status", id: "progress" }, S.progress)) : q);
  body.push(h("p", {}, linkButton("Check again for new replies", recheck)));
  return { title, body };
}

function sendFollowUp() {
  return send(S.follow.forceId,
    async () => followUpPayloadOf(S.follow, Q.sentAtNow(), Q.replyMaterial(await Q.deriveReplySecrets(S.secrets.code, forceById(S.follow.forceId)?.publicKey))),
    (res) => {
      S.followSent = res.force.name;
      S.follow = { forceId: "", message: "" };
      go("follow-up-sent");
    }, "message");
}

function viewFollowSent() {
  return {
    title: "Message sent",
    body: [
      h("div", { class: "panel" }, h("h1", {}, "Message sent"), h("p", {}, `Your message was locked and sent to ${S.followSent}.`)),
      h("h2", {}, "What happens next"),
      h("p", {}, "Use the same 12 words to check for replies in a few days."),
      button("Back to your replies", () => { S.replies = null; go("replies"); }, "secondary"),
      h("p", {}, linkButton("Finish", () => { wipeState(); go("start"); })),
    ],
  };
}

// ---------------------------------------------------------------- footer: what was served

async function showAssets() {
  const box = document.getElementById("served");
  if (!box) return;
  const assets = await getAssets();
  if (!assets) return;
  clear(box);
  box.append(h("details", { class: "served" },
    h("summary", {}, "Check what you were served"),
    h("p", {}, "SHA-256 of each file of this page, as the service reports them, to compare with a published build."),
    h("dl", {}, assets.map((a) => [h("dt", {}, a.path), h("dd", {}, h("code", {}, a.sha256.toLowerCase()))]))));
  box.hidden = false;
}

// ---------------------------------------------------------------- start-up

const VIEWS = {
  start: viewStart,
  force: viewForce,
  what: viewWhat,
  "where-when": viewWhereWhen,
  people: viewPeople,
  how: viewHow,
  check: viewCheck,
  sent: viewSent,
  code: viewCode,
  replies: viewReplies,
  "follow-up-sent": viewFollowSent,
};

function boot() {
  main = document.getElementById("main");
  if (!main) return;
  document.documentElement.classList.add("js");
  installExit(wipeState);
  window.addEventListener("popstate", (e) => {
    const step = e.state && e.state.step;
    // Back or Forward while the worker searches: stop; nothing is sent.
    cancelWork();
    S.errors = null;
    S.step = step && allowed(step) ? step : "start";
    if (S.step !== step) history.replaceState({ step: S.step }, "");
    render(true);
  });
  // The skip link would put "#main" in the address and the history.
  const skip = document.querySelector(".skip-link");
  if (skip) skip.addEventListener("click", (e) => { e.preventDefault(); main.focus(); });
  if (!window.crypto || !crypto.subtle) {
    // WebCrypto exists only in secure contexts (HTTPS, .onion in Tor Browser, localhost).
    clear(main);
    main.append(h("h1", {}, "This page cannot lock your report here"),
      h("p", {}, "Nothing has been sent. Your browser only lets this page lock (encrypt) a report over a secure connection. Open this service at its address that starts with https://, or at its .onion address in Tor Browser."));
    return;
  }
  S.step = "start";
  history.replaceState({ step: "start" }, "");
  render(false);
  showAssets();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
