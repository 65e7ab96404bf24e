// Forms never lose input (#13.4), on every page:
// - a submit button disables itself while its request is in flight (no double submit), and comes back
//   when the page is shown again (the back button, bfcache) or when no page replaces this one (a download);
// - a page that comes back with errors scrolls to the first one and puts the cursor in its field.
(function () {
  "use strict";
  var BUSY = "data-submitting";

  function buttons(form) {
    var inside = Array.prototype.slice.call(form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]"));
    var outside = form.id ? Array.prototype.slice.call(document.querySelectorAll("[form='" + form.id + "'][type=submit]")) : [];
    return inside.concat(outside);
  }

  function release(form) {
    form.removeAttribute(BUSY);
    buttons(form).forEach(function (button) {
      if (button.hasAttribute("data-was-enabled")) {
        button.disabled = false;
        button.removeAttribute("data-was-enabled");
        button.removeAttribute("aria-busy");
      }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) { return; }
    if (form.hasAttribute(BUSY)) { event.preventDefault(); return; }  // a second click while in flight
    form.setAttribute(BUSY, "");
    // Disabled after this turn, so the button that was clicked still sends its name and value.
    window.setTimeout(function () {
      buttons(form).forEach(function (button) {
        if (!button.disabled) {
          button.setAttribute("data-was-enabled", "");
          button.setAttribute("aria-busy", "true");
          button.disabled = true;
        }
      });
    }, 0);
    // A form answered by a file (no new page) gets its buttons back.
    window.setTimeout(function () { release(form); }, 15000);
  });

  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[" + BUSY + "]"), release);
  });

  var FIELDS = "input:not([type=hidden]):not([disabled]), select, textarea";

  // The first field marked wrong (aria-invalid, or inside .has-error); else the first message.
  function firstError(main) {
    var marked = main.querySelector("[aria-invalid=true]");
    var holders = main.querySelectorAll(".has-error");
    for (var i = 0; i < holders.length && !marked; i++) { marked = holders[i].querySelector(FIELDS); }
    if (marked) { return {field: marked, holder: marked.closest(".has-error, .field, td") || marked}; }
    var message = main.querySelector(".error, .flash-error");
    return message ? {field: null, holder: message} : null;
  }

  function goToFirstError() {
    var found = firstError(document.getElementById("main") || document.body);
    if (!found || (found.field && document.activeElement === found.field)) { return; }
    found.holder.scrollIntoView({block: "center"});
    if (found.field) { found.field.focus({preventScroll: true}); }
  }

  // Once the page is parsed, and again after load: the browser's own jump to the URL's #anchor (the
  // form's section) comes in between and would take the focus back to the page.
  document.addEventListener("DOMContentLoaded", goToFirstError);
  window.addEventListener("load", function () { window.setTimeout(goToFirstError, 0); });
}());
