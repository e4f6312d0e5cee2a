// lienthong pages: small progressive enhancements (every page works without them).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A chosen YAML file fills the definition's text area (the console's upload).
  for (const input of document.querySelectorAll("input[type=file][data-fills]")) {
    input.addEventListener("change", () => {
      const target = document.getElementById(input.dataset.fills);
      const file = input.files && input.files[0];
      if (!target || !file) return;
      file.text().then((text) => { target.value = text; });
    });
  }
  // After a refused form, the first field in error takes the focus (and comes into view).
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    const target = invalid.matches("fieldset") ? invalid.querySelector("input") : invalid;
    if (target) target.focus();
  }
  // A definition's findings come into view first.
  const findings = document.getElementById("findings");
  if (findings) findings.focus();
  // Print buttons.
  for (const b of document.querySelectorAll("button[data-print]")) {
    b.addEventListener("click", () => window.print());
  }
  // Filters apply as soon as they change (the form's button remains for keyboards).
  for (const f of document.querySelectorAll("form[data-autosubmit]")) {
    f.addEventListener("change", () => f.requestSubmit());
  }
});
