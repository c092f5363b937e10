// A few DOM helpers, so views are plain functions returning elements.
// Nothing here sets inline styles or HTML strings (CSP: no inline style; and
// typed text only ever goes in as text).

/**
 * h("p", { class: "hint", id: "x" }, "text", child) → element.
 * Props: class, text, on (event map), and anything else as an attribute
 * (true → empty attribute, false/null/undefined → absent). Children may be
 * strings, nodes, arrays, or null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === "text") el.textContent = v;
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else el.setAttribute(k === "class" ? "class" : k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

/** Append children (strings, nodes, nested arrays; null/false skipped). */
export function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Remove every child of an element. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Text with line breaks kept (rendered by CSS white-space: pre-wrap). */
export function para(text, cls) {
  return h("p", { class: cls ? `pre ${cls}` : "pre" }, text);
}

/** A link-styled button that does `fn` (no URL, so nothing lands in history). */
export function linkButton(text, fn, extra) {
  return h("button", { type: "button", class: "link", on: { click: fn }, ...extra }, text);
}

/** Text only screen readers hear. */
export function hidden(text) {
  return h("span", { class: "visually-hidden" }, text);
}
