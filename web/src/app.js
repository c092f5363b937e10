// The reporter page: replaces the no-JavaScript page and runs the whole
// journey in memory. Nothing is stored on the device (no cookies, no web
// storage); reloading or "Exit this page" forgets everything, and a reload
// or a closed tab with answers on the page asks first (beforeunload).
//
// Journey: start → force → what → where-when → people → how → check → sent
// (the reply code) → sent-check (two of its words typed back) → sent-done;
// returning: code → replies (read, then send a follow-up) → follow-up-sent.
// Sending seals first, then shows a waiting screen over check (or replies)
// while a worker does the server's proof of work, then posts.
//
// This file draws the steps and reads their forms. The rules are elsewhere,
// without the DOM: which step follows which, what each checks, what check
// answers lists and the payloads (journey.js); sealing, the proof of work,
// posting and trying again (send.js); every word shown (the catalogues,
// i18n.js). "English | Cymraeg" switches the catalogue and draws the same
// step again, with everything typed kept.

// Imports in this order: the bundle keeps it, and this order compresses
// smallest (the page's budget, README.md).
import { checkReplyCode, formatSentAt } from "./validate.js";
import * as Q from "./quietline-crypto.js";
import {
  emptyReport, allowed as canShow, nextStep, CHECKS, checkFollowUp, checkRows, PERSON, VEHICLE,
  reportPayloadOf, followUpPayloadOf, lastReplier,
} from "./journey.js";
import { busyMessage } from "./retry.js";
import { CATEGORY_LABELS, HOW_KNOWN_LABELS, ONGOING_LABELS, SIGNPOST } from "./labels.js";
import { getForces, getAssets, getKeylog } from "./api.js";
import { sealAndPost, stopWork, pauseWork, resumeWork } from "./send.js";
import { estimate, WAIT_TEXT } from "./wait.js";
import { installExit } from "./exit.js";
import { t, lang, languages, loadLater, switchTo, useCatalogue } from "./i18n.js";
import { h, append, clear, linkButton, hidden } from "./dom.js";

// ---------------------------------------------------------------- state

// The page's state. Fields not set here start unset (each is read only
// as true or false until it is set):
//   step            the step shown (VIEWS), set by boot, go() and Back/Forward
//   forces          [{ id, name, keyId, publicKey }] once loaded
//   forcesFailed    the directory could not be loaded
//   loadingForces   the promise while it loads
//   changing        came from a Change link: Continue returns to check
//   errors          [{ id?, group?, text }] shown on the current step
//   read            reads the shown form into this state, unchecked (a
//                   language switch keeps what was typed and not yet sent)
//   pendingCode     reply code of the report being sent, until 201
//   busy            a send is under way
//   progress        what the send is doing, under its button
//   refused         the key check refused a force's key or the key log
//                   ("Do not try again"): no Send button until the page is left
//   waiting         the waiting screen while sending: { what, expected, tries, status, started, posting }
//   sent            { words, forceName, ask: [two positions], confirmed } from the
//                   confirmation until Finish
//   codeText        the reply code as typed, until it is checked
//   suggestion      { position, word, suggest } for a code word not in the list
//   secrets         derived from the reply code on the replies page
//   replies         { list (the force's replies), conv (the conversation, copy.js), replies, done, failed }
//   days            { n, more }: the server's retention, once known
//   followSent      the force's name on the follow-up confirmation
//   pickForce       the reporter asked to choose the follow-up's force again
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
  // Files still uploading stop at their next part (attach.js).
  if (S.att && S.att.progress) S.att.progress.cancel = true;
  copying.clear();
  if (S.pendingCode) S.pendingCode.fill(0);
  forgetSecrets();
  S = freshState();
}

/**
 * Whether leaving now would lose something: answers typed, a reply code
 * not yet confirmed as written down, a follow-up being written.
 */
function unsaved() {
  const f = main && main.querySelector("form");
  if (f && S.read) S.read(f);
  const typed = (o) => Object.values(o).some((v) => (Array.isArray(v) ? v.length : String(v).trim()));
  return typed(S.r) || !!S.follow.message.trim() || !!(S.sent && !S.sent.confirmed) || !!S.busy || !!copying.size;
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
  // depth: how many entries of this page lie behind this one (exit.js steps back over them).
  history.pushState({ step, depth: ((history.state && history.state.depth) || 0) + 1 }, "");
  render(true);
  window.scrollTo(0, 0);
}

function render(focus) {
  const view = S.waiting ? viewWaiting : VIEWS[S.step] || VIEWS.start;
  clear(main);
  S.read = null;
  const { title, body } = view();
  if (S.errors && S.errors.length) main.append(errorSummary(S.errors));
  append(main, [body]);
  document.title = t(S.errors && S.errors.length ? "page.title.error" : "page.title", { title });
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
  return h("p", {}, linkButton(t("nav.back"), () => history.back(), { class: "link back" }));
}

// ---------------------------------------------------------------- language

/**
 * Switch the page to language `tag`: fetch its catalogue, keep what the
 * shown form holds, then draw the same step (and the page around it) in it.
 * Offline, the page says so in the language it is in, and nothing is lost.
 */
async function switchLanguage(tag) {
  if (tag === lang()) return;
  const f = main.querySelector("form");
  if (f && S.read) S.read(f);
  try {
    await switchTo(tag);
  } catch {
    return fail([{ text: t("err.lang_load") }]);
  }
  addressLanguage();
  shell();
  // Errors shown are worked out again, in the new words.
  if (S.errors) {
    try {
      S.errors = S.step in CHECKS ? CHECKS[S.step](S.r) : S.step === "code" ? codeErrors() : null;
    } catch {
      S.errors = null; // words the page has not loaded yet (offline): the check runs again on Continue
    }
  }
  render(true);
}

/**
 * The address says the language in use, so a reload keeps it (no cookie, no
 * storage): `?lang=` on the current history entry, whatever an older entry
 * (reached by Back) said.
 */
function addressLanguage() {
  const q = new URLSearchParams(location.search).get("lang");
  const dflt = (languages()[0] || {}).code;
  if (q !== lang() && !(q === null && lang() === dflt)) history.replaceState(history.state, "", `?lang=${lang()}`);
}

/** The parts of the page outside <main> in the catalogue's language: attributes, texts and the switch. */
function shell() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
  for (const nav of document.querySelectorAll(".lang-switch")) {
    clear(nav);
    nav.append(h("ul", {}, languages().map((l) => h("li", {}, l.code === lang()
      ? h("span", { "aria-current": "true" }, l.name)
      : h("a", { href: `?lang=${l.code}`, hreflang: l.code, lang: l.code, "data-lang": l.code }, l.name)))));
  }
}

/** A language tag as a `lang` attribute may carry it (a reply's payload says which), or null. */
const langTag = (v) => (typeof v === "string" && /^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i.test(v) ? v : null);

// ---------------------------------------------------------------- components

function errorSummary(errors) {
  return h("div", { class: "error-summary", "aria-labelledby": "error-summary-title" },
    h("h2", { id: "error-summary-title" }, t("err.summary")),
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
  return text ? h("p", { class: "error-message", id: `${id}-error` }, hidden(`${t("err.prefix")} `), text) : null;
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

/**
 * A form that never submits to the server. `read(form)` copies what it
 * holds into the page's state, unchecked (also before a language switch);
 * on submit, `onSubmit(form)` runs after it and checks.
 */
function form(read, onSubmit, ...children) {
  S.read = read;
  return h("form", { novalidate: true, autocomplete: "off", on: { submit: (e) => { e.preventDefault(); read(e.currentTarget); onSubmit(e.currentTarget); } } }, children);
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

/** A link to the "Staying safe online" page, in a new tab so nothing on this one is lost. */
const safeLink = () => h("p", {}, h("a", { href: `/staying-safe?lang=${lang()}`, target: "_blank", rel: "noopener noreferrer" }, t("safe.link")));

// ---------------------------------------------------------------- start

function viewStart() {
  return {
    title: t("start.title"),
    body: [
      h("h1", {}, t("start.title")),
      h("p", { class: "lead" }, t("start.lead")),
      h("div", { class: "warning" }, h("strong", {}, hidden(`${t("warning.prefix")} `), t("start.emergency"))),
      // Both ways in come first, within a phone's first screen.
      h("div", { class: "start-actions" },
        button(t("start.start"), () => go("force"), "start"),
        button(t("start.check"), () => go("code"), "secondary")),
      h("p", { class: "hint" }, t("start.check.hint")),
      h("h2", {}, t("start.anon.title")),
      h("p", {}, t("start.anon.locked")),
      h("p", {}, t("start.keeps")),
      h("ul", { class: "list" },
        h("li", {}, t("start.keeps.report")),
        h("li", {}, t("start.keeps.force")),
        h("li", {}, t("start.keeps.date"))),
      h("p", {}, t("start.not_kept")),
      h("ul", { class: "list" },
        h("li", {}, t("start.not_kept.name")),
        h("li", {}, t("start.not_kept.ip")),
        h("li", {}, t("start.not_kept.time"))),
      h("p", {}, t("start.device")),
      h("p", {}, t("start.identify")),
      safeLink(),
      h("h2", {}, t("start.reply.title")),
      h("p", {}, t("start.reply.code")),
      h("p", {}, t("start.reply.read")),
      h("p", {}, t("start.reply.deleted")),
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
    let text = t("force.none");
    let retry = null;
    if (S.forcesFailed) {
      text = t("force.failed");
      retry = button(t("nav.try_again"), () => { S.forcesFailed = false; S.forces = null; render(true); }, "secondary");
    } else if (!S.forces) {
      text = t("force.loading");
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
  const q = forceQuestion("force", S.r.forceId, t("force.question"), true, t("force.hint"));
  const ready = S.forces && S.forces.length;
  body.push(ready ? form((f) => { S.r.forceId = val(f, "force"); }, () => answered("force"), q, button(t("nav.continue"))) : q);
  return { title: t("force.question"), body };
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
    title: t("what.title"),
    body: [
      back(),
      h("h1", {}, t("what.title")),
      form((f) => {
        r.category = val(f, "category");
        r.details = val(f, "details");
      }, () => answered("what"),
      radios({
        name: "category", legend: t("what.category"), value: r.category,
        hint: t("what.category.hint"),
        options: Q.CATEGORIES.map((c) => ({
          value: c, label: t(CATEGORY_LABELS[c][0]), hint: CATEGORY_LABELS[c][1] && t(CATEGORY_LABELS[c][1]),
          // Where else to get help, for the categories that have specialist services.
          reveal: SIGNPOST[c] && (() => h("div", { class: "inset" }, h("p", {}, t(SIGNPOST[c])))),
        })),
      }),
      field({
        id: "details", label: t("what.details"), labelClass: "label-m", textarea: true, rows: 8, value: r.details,
        hint: t("what.details.hint"),
      }),
      button(t("nav.continue"))),
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
        h("legend", { class: "legend-s" }, t("when.date")),
        h("p", { class: "hint", id: "date-hint" }, t("when.date.hint")),
        errorMessage("date", dateErr),
        h("div", { class: "date" },
          dateField("day", t("when.day"), 2, r.day), dateField("month", t("when.month"), 2, r.month), dateField("year", t("when.year"), 4, r.year)))),
    field({ id: "time", label: t("when.time"), hint: t("when.time.hint"), value: r.time, width: 5 }),
    field({ id: "when-text", label: t("when.text"), hint: t("when.text.hint"), value: r.whenText, textarea: true, rows: 2 }),
  ];
  return {
    title: t("ww.title"),
    body: [
      back(),
      h("h1", {}, t("ww.title")),
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
      }, () => answered("where-when"),
      radios({
        name: "where-known", legend: t("where.known"), value: r.whereKnown,
        options: [
          { value: "yes", label: t("answer.yes"), reveal: () => field({ id: "where", label: t("where.where"), hint: t("where.hint"), value: r.where, textarea: true, rows: 3 }) },
          { value: "no", label: t("answer.no_unknown") },
        ],
      }),
      radios({
        name: "when-known", legend: t("when.known"), value: r.whenKnown,
        options: [
          { value: "yes", label: t("answer.yes"), reveal: whenDetails },
          { value: "no", label: t("answer.no_unknown") },
        ],
      }),
      radios({
        name: "ongoing", legend: t("ongoing.question"), value: r.ongoing, small: true,
        options: Object.entries(ONGOING_LABELS).map(([value, label]) => ({ value, label: t(label) })),
      }),
      button(t("nav.continue"))),
    ],
  };
}

// ---------------------------------------------------------------- people and vehicles

// PERSON and VEHICLE (journey.js): [payload field, label key, hint key, textarea?, check-page label key]
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
  // keys: [legend "Person {n}", remove's hidden words, add the first, add another]
  const group = (list, fields, key, keys) => list.map((item, i) =>
    h("fieldset", { class: "fieldset item" },
      h("legend", { class: "legend-s" }, t(keys[0], { n: i + 1 })),
      fields.map(([k, label, hint, ta]) => field({ id: `${key}-${i + 1}-${k}`, label: t(label), hint: hint && t(hint), value: item[k], textarea: ta, rows: 3 })),
      linkButton([h("span", { "aria-hidden": "true" }, t("nav.remove")), hidden(t(keys[1], { n: i + 1 }))], () => {
        readPeople(formEl);
        list.splice(i, 1);
        render(false);
        const add = document.getElementById(`add-${key}`);
        if (add) add.focus();
      })));
  const add = (list, fields, key, keys) => button(t(list.length ? keys[3] : keys[2]), () => {
    readPeople(formEl);
    list.push(Object.fromEntries(fields.map(([k]) => [k, ""])));
    render(false);
    const first = document.getElementById(`${key}-${list.length}-${fields[0][0]}`);
    if (first) first.focus();
  }, "secondary", { id: `add-${key}` });
  const personKeys = ["people.person", "people.person.remove", "people.person.add", "people.person.add_another"];
  const vehicleKeys = ["people.vehicle", "people.vehicle.remove", "people.vehicle.add", "people.vehicle.add_another"];
  formEl = form(readPeople, () => answered("people"),
    h("h2", {}, t("people.people")),
    h("p", { class: "hint" }, t("people.people.hint")),
    group(r.people, PERSON, "person", personKeys),
    add(r.people, PERSON, "person", personKeys),
    h("h2", {}, t("people.vehicles")),
    h("p", { class: "hint" }, t("people.vehicles.hint")),
    group(r.vehicles, VEHICLE, "vehicle", vehicleKeys),
    add(r.vehicles, VEHICLE, "vehicle", vehicleKeys),
    h("div", { class: "actions" }, button(t("nav.continue"))));
  return {
    title: t("people.title"),
    body: [
      back(),
      h("h1", {}, t("people.h1")),
      h("p", {}, t("people.intro")),
      formEl,
    ],
  };
}

// ---------------------------------------------------------------- how they know

function viewHow() {
  const r = S.r;
  return {
    title: t("how.question"),
    body: [
      back(),
      form((f) => {
        r.howKnown = val(f, "how");
        r.howDetails = val(f, "how-details");
      }, () => answered("how"),
      radios({
        name: "how", legend: t("how.question"), asH1: true, value: r.howKnown,
        options: Q.HOW_KNOWN.map((v) => ({ value: v, label: t(HOW_KNOWN_LABELS[v]) })),
      }),
      field({
        id: "how-details", label: t("how.details"), textarea: true, rows: 3, value: r.howDetails,
        hint: t("how.details.hint"),
      }),
      button(t("nav.continue"))),
    ],
  };
}

// ---------------------------------------------------------------- photos, videos and files

/** attach.js and the later words (its messages are among them), then `fn(attach)`; `failed()` if either cannot load. */
const withAttach = (fn, failed) => Q.loadAttach().then(async (a) => (await loadLater(), a)).then(fn, failed);

// What attach.js needs of the page (its own bundle, loaded once a file is chosen).
const attCtx = () => ({ ...SENDING, S, t, render, fail });

/**
 * The optional file step: GOV.UK's enhanced file upload. The browser's own
 * file input says "Choose Files" in the browser's language, so it stays in
 * the DOM (hidden: its picker, a phone's photo library too) and a button in
 * the page's words opens it. The button takes the id `files-input`: the label,
 * the error summary's link and attach.js's focus all reach it. attach.js does
 * the rest once a file is chosen.
 */
function viewFiles() {
  const A = globalThis.QuietlineAttach;
  const add = (files) => withAttach((a) => a.add(files, attCtx()), () => fail([{ id: "files-input", text: t("send.err.load") }]));
  const err = errorFor("files-input");
  // Files are listed only once attach.js and the later words have loaded: "{n} files chosen" is among those.
  const n = S.att ? S.att.items.length : 0;
  const picker = h("input", { type: "file", id: "files-picker", multiple: true, hidden: true, on: { change: (e) => add(e.target.files) } });
  return {
    title: t("files.title"),
    body: [
      back(),
      form(() => {}, async () => {
        if (!A || await A.upload(S.r.forceId, attCtx())) answered("files");
      },
      // The whole group takes dropped files (GOV.UK's drop zone), not only the button.
      h("div", { class: `form-group drop-zone${err ? " has-error" : ""}`, on: {
        // Files dragged in are on their way: attach.js outlines the zone and says so (attach.js dragged).
        dragenter: (e) => e.dataTransfer.types.includes("Files") && withAttach((a) => a.dragged(e.target, t), () => {}),
        dragover: (e) => e.preventDefault(),
        drop: (e) => { e.preventDefault(); add(e.dataTransfer.files); },
      } },
        h("h1", {}, h("label", { for: "files-input", id: "files-label" }, t("files.title"))),
        h("p", { class: "hint", id: "files-input-hint" }, t("files.hint")),
        errorMessage("files-input", err),
        picker,
        // Named by the label, then what it holds: "… No file chosen, Choose files or drop files here"
        // (the spaces are text: axe's label-in-name check reads the words as shown).
        h("button", { type: "button", id: "files-input", class: "file-button", "aria-labelledby": "files-label files-input", "aria-describedby": describedBy("files-input", true, err), on: { click: () => picker.click() } },
          h("span", { class: "file-status" }, n ? t("att.chosen", { n }) : t("files.none")), hidden(","), " ",
          h("span", { class: "button secondary" }, t("files.choose")), " ", t("files.drop")),
        h("span", { class: "visually-hidden", id: "files-drag", "aria-live": "assertive" })),
      A && A.view(attCtx()),
      button(t("nav.continue"))),
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
  const row = (key, value, step, change) => h("div", { class: "summary-row" },
    h("dt", {}, key),
    h("dd", { class: "pre" }, listSummary(value)),
    h("dd", { class: "summary-action" }, linkButton([h("span", { "aria-hidden": "true" }, t("nav.change")), hidden(change)], () => { S.changing = true; go(step); })));
  const progress = h("p", { class: "progress", role: "status", id: "progress" }, S.progress);
  const sendButton = button(t("check.send"), sendReport, "", { id: "send", "aria-describedby": "progress" });
  return {
    title: t("check.title"),
    body: [
      back(),
      h("h1", {}, t("check.title")),
      h("dl", { class: "summary" },
        checkRows(r, forceName(r.forceId)).map((a) => row(...a)),
        S.att && S.att.items.length ? row(t("att.check"), globalThis.QuietlineAttach.names(S).join("\n"), "files", t("att.change")) : null),
      S.refused ? refusedWayOn(forceName(r.forceId)) : [
        h("h2", {}, t("check.now")),
        h("p", {}, t("check.now.text", { force: forceName(r.forceId) })),
        sendButton,
        progress,
      ],
    ],
  };
}

/**
 * After a key refusal ("Do not try again"): in place of Send, the way on the
 * message gives, and "Exit this page" (exit.js handles any [data-exit]).
 * The answers stay in this page's memory only, as always: nothing is stored.
 */
function refusedWayOn(force) {
  return [
    h("p", {}, t("send.refused", { force })),
    h("a", { href: "/exit", class: "button secondary", "data-exit": true }, t("shell.exit")),
  ];
}

/** What sending is doing, under its button: a catalogue key (send.js) or "". */
function setProgress(key) {
  S.progress = key && t(key);
  const p = document.getElementById("progress");
  if (p) p.textContent = S.progress;
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

const WAITING = ["wait.status.first", "wait.status.later"];

/** The catalogue key for a report or a follow-up message (the words differ, and so may their grammar). */
const forWhat = (what, report, message) => t(what === "report" ? report : message);

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
  if (Date.now() - w.started > 10000 && w.status === t(WAITING[0])) setWaiting(t(WAITING[1]));
  showEstimate(w);
}

function setWaiting(text) {
  S.waiting.status = document.getElementById("pow-status").textContent = text;
}

/** The workers have started: the waiting screen, over the step. */
function solving(expected, what) {
  const before = S.waiting;
  S.waiting = { what, expected, tries: 0, started: Date.now(), status: t(WAITING[0]) };
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
  if (!w) return setProgress("send.sending");
  const cancel = document.getElementById("cancel");
  if (cancel) {
    if (document.activeElement === cancel) main.querySelector("h1").focus();
    cancel.remove();
  }
  w.posting = true;
  document.getElementById("pow-progress").value = 100;
  setWaiting(forWhat(w.what, "wait.sending.report", "wait.sending.message"));
}

function cancelButton() {
  return button(t("wait.cancel"), () => cancelWork(), "secondary", { id: "cancel" });
}

function viewWaiting() {
  const w = S.waiting;
  if (w.paused) return viewPaused(w);
  const title = forWhat(w.what, "wait.title.report", "wait.title.message");
  return {
    title,
    body: [
      h("h1", {}, title),
      h("p", {}, forWhat(w.what, "wait.why.report", "wait.why.message")),
      h("label", { class: "label-s", for: "pow-progress" }, t("wait.progress")),
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
  // Before sealing to a pinned force (keycheck.js): null, or why not.
  check: async (force) => {
    try {
      await (await Q.loadKeycheck()).checkBeforeSeal({ fetch, force, first: await seen });
      return null;
    } catch (e) {
      return e.code || "load";
    }
  },
  reload: loadForces,
  progress: setProgress,
  solving,
  tries: progress,
  busy,
  posting: sending,
};

// The key log as this page load first saw it (keycheck.js compares): a promise.
let seen;
// keycheck.js's codes → which message (a statement error or a swapped key is "key").
const LOG = "send.err.keycheck.log";
const KEY = "send.err.keycheck.key";
const UNCHECKED = "send.err.keycheck.unchecked";
const KEYCHECK = { not_current: "send.err.keycheck.old", unreachable: UNCHECKED, load: UNCHECKED, not_in_log: LOG, log_inconsistent: LOG, bad_checkpoint: LOG, bad_log_key: LOG };

/** Plain words for a failed send (FORMAT.md#errors for the 400 codes): each a whole message in the catalogue. */
function sendError(res, name) {
  if (res.keycheck) return t(KEYCHECK[res.keycheck] || KEY, { force: name });
  if (res.challenge && !res.status) return t("send.err.unreachable");
  switch (res.status) {
    case -1: return t("send.err.prepare");
    case 0: return t("send.err.connection");
    case 404: return name ? t("send.err.force_gone", { force: name }) : t("send.err.force_gone.unnamed");
    case 413: return t("send.err.too_large");
    case 422: return name ? t("send.err.new_key", { force: name }) : t("send.err.new_key.unnamed");
    // 503: still busy after the page's own retries (retry.js, send.js).
    case 429: case 503: return t("send.err.busy");
    case 400:
      if (res.error === "invalid_force_id") return t("send.err.force_id");
      if (res.error === "unknown_version" || res.error === "unknown_suite") return t("send.err.outdated");
      if (res.error === "truncated" || res.error === "bad_ciphertext_length") return t("send.err.truncated");
      return t("send.err.refused");
    default: return t("send.err.down");
  }
}

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
    S.waiting = null;
    setBusy(false);
    if (res.ok) keepCopy(forceId, payload, what);
    payload.fill(0);
    if (res.ok) return done(res);
    if (res.cancelled) {
      // Back where the reporter was, with everything kept and nothing sent
      // (unless the page is being left: Exit this page).
      if (res.quiet) return;
      S.progress = t("send.cancelled");
      return render(true);
    }
    text = sendError(res, forceName(forceId));
    // The key or the key log did not check out: someone may have interfered,
    // and the message says not to try again, so check answers shows no Send
    // button for as long as the page is open (viewCheck).
    if (res.keycheck && [LOG, KEY].includes(KEYCHECK[res.keycheck] || KEY)) S.refused = true;
  } catch (e) {
    cancelWork();
    S.waiting = null;
    setBusy(false);
    text = e && e.code === "too_large" ? t("send.err.too_long")
      : e && e.code === "load" ? t("send.err.load")
      : e && e.code === "files" ? t("att.err.again")
      : t("send.err.lock");
  }
  S.progress = "";
  fail([{ text: t("send.err.kept", { error: text }) }]);
}

/**
 * The reporter's own copy of what was just sent (copy.js,
 * FORMAT.md#own-copies), written in the background: nothing waits for it,
 * but closing the tab meanwhile asks first (it would lose the copy).
 * Forgotten, not waited for, by "Exit this page".
 */
const copying = new Set();
function keepCopy(forceId, payload, what) {
  const report = what === "report";
  const code = (report ? S.pendingCode : S.secrets.code).slice();
  const p = payload.slice();
  const w = Q.loadCopy().then((c) => c.writeCopy(code, forceById(forceId)?.publicKey, p, report ? 0 : S.replies?.replies || 0, (d) => { S.days = d; if (S.step === "sent-done") render(false); }), () => {})
    .finally(() => copying.delete(w));
  copying.add(w);
}

function sendReport() {
  return send(S.r.forceId, async () => {
    // The words are shown once it is sent, with words of the page's that
    // only then are needed: have them before it is.
    await Promise.all([Q.loadWords(), loadLater()]);
    if (!S.pendingCode) S.pendingCode = Q.generateReplyCode();
    const secrets = await Q.deriveReplySecrets(S.pendingCode, forceById(S.r.forceId)?.publicKey);
    secrets.replyPrivateKey.fill(0);
    // The files were uploaded on their step, to the force chosen then.
    const files = S.att ? globalThis.QuietlineAttach.entries(S, S.r.forceId) : [];
    if (!files) throw { code: "files" };
    return reportPayloadOf(S.r, Q.sentAtNow(), Q.replyMaterial(secrets), files);
  }, (res) => {
    // Two positions to type back, different each time.
    const pos = [...crypto.getRandomValues(new Uint8Array(12))].map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]).slice(0, 2).map((p) => p[1]).sort((a, b) => a - b);
    S.sent = { words: Q.replyCodeToWords(S.pendingCode).split(" "), forceName: res.force.name, ask: pos };
    S.pendingCode.fill(0);
    S.pendingCode = null;
    S.r = emptyReport();
    S.att = null;
    S.changing = false;
    go("sent");
  }, "report");
}

// ---------------------------------------------------------------- confirmation and the reply code

/** The 12 words, numbered, in two columns: 1–6 then 7–12, so 10–12 fit a phone's screen. */
const codeList = (words) => h("ol", { class: "reply-code", "aria-label": t("sent.code.label") }, words.map((w) => h("li", { lang: "en" }, w)));

function viewSent() {
  const { words, forceName: name } = S.sent;
  return {
    title: t("sent.title"),
    body: [
      h("div", { class: "panel" }, h("h1", {}, t("sent.title")), h("p", {}, t("sent.to", { force: name }))),
      h("h2", {}, t("sent.code.title")),
      h("p", {}, t("sent.code.write")),
      codeList(words),
      h("p", {}, t("sent.code.english")),
      h("p", {}, t("sent.force.note", { force: name })),
      h("h2", {}, t("sent.safe.title")),
      h("ul", { class: "list" },
        h("li", {}, t("sent.safe.paper")),
        h("li", {}, t("sent.safe.anyone")),
        h("li", {}, t("sent.safe.photo")),
        h("li", {}, t("sent.safe.once"))),
      safeLink(),
      button(t("sent.written"), () => go("sent-check")),
    ],
  };
}

/** Before the words are hidden: two of them typed back, by position. */
function viewSentCheck() {
  const st = S.sent;
  const [a, b] = st.ask;
  const wordField = (i) => field({ id: `word-${i + 1}`, label: t("sentcheck.word", { n: i + 1 }), value: st[`typed${i}`] || "", width: 10, extra: { autocapitalize: "none", autocorrect: "off", lang: "en" } });
  return {
    title: t("sentcheck.title"),
    body: [
      h("h1", {}, t("sentcheck.title")),
      h("p", {}, t("sentcheck.intro")),
      form((f) => { st[`typed${a}`] = val(f, `word-${a + 1}`); st[`typed${b}`] = val(f, `word-${b + 1}`); }, () => {
        const errors = [a, b].filter((i) => (st[`typed${i}`] || "").trim().toLowerCase() !== st.words[i])
          .map((i) => ({ id: `word-${i + 1}`, text: t("sentcheck.wrong", { n: i + 1 }) }));
        if (errors.length) return fail(errors);
        st.confirmed = true;
        go("sent-done");
      }, wordField(a), wordField(b), button(t("nav.continue"))),
      h("p", {}, linkButton(t("sentcheck.show"), () => history.back())),
    ],
  };
}

/** How long things are kept: the server's number once known (copy.js asks), else the general words. */
const deleted = () => h("p", {}, S.days ? t("replies.deleted.days", S.days) : t("start.reply.deleted"));

function viewSentDone() {
  const name = S.sent.forceName;
  return {
    title: t("done.title"),
    body: [
      h("h1", {}, t("done.title")),
      h("p", {}, t("done.hidden")),
      h("h2", {}, t("done.next")),
      h("p", {}, t("done.next.read", { force: name })),
      h("p", {}, t("done.next.come_back")),
      deleted(),
      h("p", {}, t("done.nothing_kept")),
      safeLink(),
      button(t("nav.finish"), () => { wipeState(); go("start"); }, "secondary"),
    ],
  };
}

// ---------------------------------------------------------------- returning: the code

/** The errors of the code as typed (S.codeText), or []; a suggestion for a word not in the list is kept in S.suggestion. */
function codeErrors() {
  const res = checkReplyCode(S.codeText);
  S.suggestion = res.suggest ? res : null;
  return res.error ? [{ id: "code", text: res.error }] : [];
}

/** Put the suggested word in place of the one typed: only when the reporter chooses it. */
function useSuggestion() {
  const { position } = S.suggestion;
  let n = 0;
  S.codeText = S.codeText.replace(/[^\s\d.),;]+/g, (w) => (++n === position ? S.suggestion.suggest : w));
  S.suggestion = null;
  S.errors = null;
  render(false);
  document.getElementById("code").focus();
}

function viewCode() {
  const sug = S.errors && S.suggestion;
  return {
    title: t("code.title"),
    body: [
      back(),
      h("h1", {}, t("code.title")),
      h("p", {}, t("code.intro")),
      form((f) => { S.codeText = val(f, "code"); }, async () => {
        try {
          await Promise.all([Q.loadWords(), loadLater()]);
        } catch {
          return fail([{ id: "code", text: t("code.err.load") }]);
        }
        const errors = codeErrors();
        if (errors.length) return fail(errors);
        const res = checkReplyCode(S.codeText);
        forgetSecrets();
        S.secrets = await Q.deriveReplySecrets(res.entropy);
        res.entropy.fill(0);
        S.codeText = "";
        S.replies = null;
        S.pickForce = false;
        S.follow = { forceId: "", message: "" };
        go("replies");
      },
      field({
        id: "code", label: t("code.label"), labelClass: "label-m", textarea: true, rows: 3, value: S.codeText,
        hint: t("code.hint"),
        extra: { autocapitalize: "none", autocorrect: "off", spellcheck: "false", lang: "en" },
      }),
      sug && h("p", {}, button(t("code.use", { word: sug.word, suggest: sug.suggest }), useSuggestion, "secondary")),
      h("p", { class: "hint" }, t("code.stays")),
      button(t("code.title"))),
    ],
  };
}

// ---------------------------------------------------------------- returning: replies and follow-up

async function loadReplies() {
  const state = { list: [], done: false, failed: false };
  S.replies = state;
  const secrets = S.secrets;
  let found;
  try {
    found = await (await Q.loadCopy()).conversation(secrets, (n) => {
      const p = document.getElementById("replies-progress");
      if (p && S.replies === state) p.textContent = t("replies.found", { n });
    }, () => S.replies !== state || S.secrets !== secrets); // left, or exited
  } catch {
    found = { list: [], conv: [], failed: true };
  }
  if (!found || S.replies !== state) return;
  Object.assign(state, found, { done: true });
  if (found.days) S.days = found.days;
  // The force that last replied, when its name is in the directory: the
  // follow-up goes to it without asking again.
  if (!S.forces) await loadForces();
  if (!S.follow.forceId && S.forces) S.follow.forceId = lastReplier(state.list, S.forces) || "";
  if (S.step === "replies") render(true);
}

/** Check the slots again, keeping a follow-up being typed. */
function recheck() {
  const f = main.querySelector("form");
  if (f && S.read) S.read(f);
  S.replies = null;
  render(true);
}

function viewReplies() {
  const st = S.replies;
  if (!st) loadReplies();
  if (!st || !st.done) {
    return {
      title: t("replies.checking"),
      body: [h("h1", {}, t("replies.checking")), h("p", { role: "status", id: "replies-progress" }, t("replies.checking.status"))],
    };
  }
  const body = [];
  const found = st.list.length;
  const title = found ? t("replies.title") : t("replies.none.title");
  if (st.failed) {
    body.push(h("h1", {}, t("replies.failed.title")),
      h("p", {}, t("replies.failed.text")),
      button(t("nav.try_again"), recheck, "secondary"));
  } else {
    body.push(h("h1", {}, title));
    if (!found) body.push(h("p", {}, t("replies.none.text")));
  }
  // Both sides, in order (copy.js, loaded by loadReplies).
  if (st.conv.length) body.push(h("p", {}, t("replies.own")), globalThis.QuietlineCopy.view(st.conv, { t, lang, formatSentAt, langTag }));
  body.push(deleted());
  body.push(h("h2", {}, t("follow.title")), h("p", {}, t("follow.intro")));
  const f = S.follow;
  const ready = S.forces && S.forces.length;
  // The force is known when one replied: it is not asked again (the
  // reporter may still choose another).
  const known = !S.pickForce && forceById(f.forceId) && found;
  const q = known
    ? [h("p", { id: "follow-to" }, t("follow.to", { force: forceName(f.forceId) })),
      h("p", {}, linkButton(t("follow.other"), () => { recheck0(); S.pickForce = true; render(false); document.getElementById("follow-force").focus(); }))]
    : forceQuestion("follow-force", f.forceId, t("follow.force"), false, t("follow.force.hint"));
  body.push(ready ? form((el) => {
    if (!known) f.forceId = val(el, "follow-force");
    f.message = val(el, "message");
  }, async () => {
    const errors = checkFollowUp(f);
    if (S.busy) return;
    if (errors.length) return fail(errors);
    await sendFollowUp();
  }, q,
  field({ id: "message", label: t("follow.message"), labelClass: "label-s", textarea: true, rows: 6, value: f.message,
    hint: t("follow.message.hint") }),
  button(t("follow.send"), null, "", { id: "send", "aria-describedby": "progress" }),
  h("p", { class: "progress", role: "status", id: "progress" }, S.progress)) : q);
  body.push(h("p", {}, linkButton(t("replies.again"), recheck)));
  return { title, body };
}

/** Keep the follow-up typed so far before the page is drawn again. */
function recheck0() {
  const f = main.querySelector("form");
  if (f && S.read) S.read(f);
}

function sendFollowUp() {
  return send(S.follow.forceId,
    async () => followUpPayloadOf(S.follow, Q.sentAtNow(), Q.replyMaterial(await Q.deriveReplySecrets(S.secrets.code, forceById(S.follow.forceId)?.publicKey))),
    (res) => {
      S.followSent = res.force.name;
      S.follow = { forceId: S.follow.forceId, message: "" };
      go("follow-up-sent");
    }, "message");
}

function viewFollowSent() {
  return {
    title: t("followsent.title"),
    body: [
      h("div", { class: "panel" }, h("h1", {}, t("followsent.title")), h("p", {}, t("followsent.to", { force: S.followSent }))),
      h("h2", {}, t("done.next")),
      h("p", {}, t("followsent.next")),
      button(t("followsent.back"), () => { S.replies = null; go("replies"); }, "secondary"),
      h("p", {}, linkButton(t("nav.finish"), () => { wipeState(); go("start"); })),
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
    h("summary", { "data-t": "served.summary" }, t("served.summary")),
    h("p", { "data-t": "served.text" }, t("served.text")),
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
  files: viewFiles,
  check: viewCheck,
  sent: viewSent,
  "sent-check": viewSentCheck,
  "sent-done": viewSentDone,
  code: viewCode,
  replies: viewReplies,
  "follow-up-sent": viewFollowSent,
};

function boot() {
  main = document.getElementById("main");
  const tag = document.documentElement.lang;
  const catalogue = (globalThis.QuietlineText || {})[tag];
  // Without its catalogue the page cannot say anything: the no-JavaScript page stays.
  if (!main || !catalogue) return;
  useCatalogue(tag, catalogue);
  document.documentElement.classList.add("js");
  installExit(wipeState);
  // The language switch: in place, keeping the step and everything typed.
  // (Without JavaScript, or on the static pages, its links load the page in that language.)
  const page = document.body.dataset.page;
  if (!page) {
    document.addEventListener("click", (e) => {
      const a = e.target instanceof Element && e.target.closest("[data-lang]");
      if (a) {
        e.preventDefault();
        switchLanguage(a.dataset.lang);
      }
    });
  }
  shell();
  showAssets();
  // A static page (Staying safe online): Exit and the switch are all it needs.
  if (page) return;
  window.addEventListener("popstate", (e) => {
    const step = e.state && e.state.step;
    // Back or Forward while the worker searches: stop; nothing is sent.
    cancelWork();
    S.errors = null;
    S.step = step && allowed(step) ? step : "start";
    if (S.step !== step) history.replaceState({ ...e.state, step: S.step }, "");
    addressLanguage();
    render(true);
  });
  // A reload or a closed tab would lose the answers: the browser asks first.
  // (Nothing is ever written to the device to keep them.)
  window.addEventListener("beforeunload", (e) => {
    if (!unsaved()) return;
    e.preventDefault();
    e.returnValue = "";
  });
  // The skip link would put "#main" in the address and the history.
  const skip = document.querySelector(".skip-link");
  if (skip) skip.addEventListener("click", (e) => { e.preventDefault(); main.focus(); });
  if (!window.crypto || !crypto.subtle) {
    // WebCrypto exists only in secure contexts (HTTPS, .onion in Tor Browser, localhost).
    clear(main);
    main.append(h("h1", {}, t("insecure.title")), h("p", {}, t("insecure.text")));
    return;
  }
  seen = getKeylog();
  S.step = "start";
  history.replaceState({ step: "start", depth: 0 }, "");
  render(false);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
