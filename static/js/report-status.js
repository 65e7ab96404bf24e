// The reports page: a row still being generated (data-state="pending") asks the page-only status endpoint
// every few seconds and is replaced by the kept report's row (download links) once it is ready.
(function () {
  "use strict";
  var table = document.querySelector("table[data-status-url]");
  if (!table || !window.fetch) { return; }
  var url = table.getAttribute("data-status-url"), delay = 2000, maxDelay = 15000;

  function waiting() { return table.querySelectorAll("tr[data-state=pending]"); }

  function poll() {
    var rows = waiting();
    if (!rows.length) { return; }
    var query = Array.prototype.map.call(rows, function (row) {
      return "key=" + encodeURIComponent(row.getAttribute("data-report-key"));
    }).join("&");
    fetch(url + "?" + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(function (data) {
        Array.prototype.forEach.call(rows, function (row) {
          var entry = data.reports[row.getAttribute("data-report-key")];
          if (entry && entry.state === "ready" && entry.html) {
            row.insertAdjacentHTML("afterend", entry.html);
            row.parentNode.removeChild(row);
          } else if (entry && entry.state === "failed") {
            window.location.reload();  // the page says why, in the reader's language
          }
        });
        delay = 2000;
      })
      .catch(function () { delay = Math.min(delay * 2, maxDelay); })
      .then(function () { if (waiting().length) { window.setTimeout(poll, delay); } });
  }
  window.setTimeout(poll, delay);
})();
