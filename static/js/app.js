// Every page.  A table wider than its frame scrolls inside its .table-wrap; such a region takes the keyboard
// focus (tabindex=0, named by its table's caption or heading) so it can be scrolled without a mouse.
(function () {
  "use strict";
  function label(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption) { return caption.textContent.trim(); }
    var previous = wrap.previousElementSibling;
    while (previous && !/^H[1-6]$/.test(previous.tagName)) { previous = previous.previousElementSibling; }
    return previous ? previous.textContent.trim() : "";
  }
  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-wrap"), function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        if (!wrap.hasAttribute("tabindex")) {
          wrap.setAttribute("tabindex", "0");
          wrap.setAttribute("data-scroll-focus", "");
          var name = label(wrap);
          if (name) { wrap.setAttribute("role", "region"); wrap.setAttribute("aria-label", name); }
        }
      } else if (wrap.hasAttribute("data-scroll-focus")) {
        ["tabindex", "data-scroll-focus", "role", "aria-label"].forEach(function (name) { wrap.removeAttribute(name); });
      }
    });
  }
  // Where CSS cannot show a closed <details>' links (no ::details-content), open the menu on a desktop.
  function openMenuOnDesktop() {
    var menu = document.querySelector("details.nav-menu");
    if (menu && !(window.CSS && CSS.supports && CSS.supports("selector(::details-content)"))
        && window.matchMedia("(min-width: 641px)").matches) { menu.open = true; }
  }
  function start() { mark(); openMenuOnDesktop(); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
  window.addEventListener("resize", mark);
})();
