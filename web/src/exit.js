// "Exit this page": the button at the top of every page, and Shift pressed
// three times. It wipes what the page holds in memory and what is on the
// screen, then leaves for a neutral site so that Back does not return to
// the service: the entries this page added to the session history are
// stepped back over first, and the service's first entry is then replaced
// (location.replace), so nothing of the service is left behind it. The
// neutral site is the server's setting: /exit answers with a redirect to it
// (src/http/page.rs), which is also where the button goes without JavaScript.

const EXIT = "/exit";
const SHIFT_WINDOW_MS = 5000;

let wipe = () => {};
let leaving = false;

/** Wipe state and the page, then leave for the neutral site, leaving nothing to go Back to. */
export function exitNow() {
  if (leaving) return;
  leaving = true;
  try {
    wipe();
  } finally {
    for (const f of document.querySelectorAll("input, textarea")) f.value = "";
    document.title = "";
    document.body.textContent = "";
    // How many entries of this page lie behind the current one (app.js
    // keeps the count in each entry's state as `depth`).
    const depth = (history.state && history.state.depth) || 0;
    let away = () => {
      away = () => {}; // once: the step back and the timer may both call it
      location.replace(EXIT);
    };
    const leave = () => away();
    if (depth > 0) {
      // Step back to this page's first entry, then replace it.
      addEventListener("popstate", leave, { once: true });
      setTimeout(leave, 1000); // in case the step back never reports
      history.go(-depth);
    } else {
      leave();
    }
  }
}

/**
 * Wire the exit button(s) and the Shift shortcut. `onWipe` clears the app's
 * in-memory state.
 */
export function installExit(onWipe) {
  wipe = onWipe;
  document.addEventListener("click", (e) => {
    const a = e.target instanceof Element && e.target.closest("[data-exit]");
    if (a) {
      e.preventDefault();
      exitNow();
    }
  });
  let count = 0;
  let timer = 0;
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Shift") {
      count = 0;
      return;
    }
    if (e.repeat) return;
    count += 1;
    clearTimeout(timer);
    timer = setTimeout(() => { count = 0; }, SHIFT_WINDOW_MS);
    if (count >= 3) exitNow();
  });
  // If the browser ever restores this page from its back-forward cache,
  // start again from nothing.
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) {
      wipe();
      location.reload();
    }
  });
}
