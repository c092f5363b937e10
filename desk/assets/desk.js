// The desk's only script (an ES module; the pages carry no inline script, so
// the CSP can say `script-src 'self'`). Every page works without it: it adds
// what the GOV.UK and MOJ components need to enhance the page.
import { initAll as initGovuk } from '/assets/govuk-frontend.min.js'
import { initAll as initMoj } from '/assets/moj-frontend.min.js'

// govuk-frontend's template sets these two classes with an inline script;
// ours does it here instead. A browser that runs ES modules supports
// govuk-frontend (its own test is `'noModule' in HTMLScriptElement.prototype`).
document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('govuk-frontend-supported')
}

initGovuk()
initMoj()

// A "copy" button next to a value marked data-desk-copy (the TOTP secret on
// the enrolment page): writing to the clipboard stays inside the page.
for (const button of document.querySelectorAll('[data-desk-copy]')) {
  button.hidden = false
  button.addEventListener('click', () => {
    const target = document.getElementById(button.dataset.deskCopy)
    if (target && navigator.clipboard) {
      navigator.clipboard.writeText(target.textContent.replace(/\s+/g, '')).catch(() => {})
    }
  })
}
