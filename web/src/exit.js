// "Exit this page": the button at the top of every page, and Shift pressed
// three times. It wipes what was typed and replaces the page, so Back does
// not return to it.

const NEUTRAL = "about:blank";
const SHIFT_WINDOW_MS = 5000;

let wipe = () => {};

/** Wipe state and the page, then leave for a neutral page. */
export function exitNow() {
  try {
    wipe();
  } finally {
    for (const f of document.querySelectorAll("input, textarea")) f.value = "";
    document.title = "New tab";
    document.body.textContent = "";
    location.replace(NEUTRAL);
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
