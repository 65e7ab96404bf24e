/* Charts of the director's pages (rankings, workload board).  Each <canvas data-chart="..." data-values="{json}"> is drawn
   with Chart.js (static/vendor/chartjs), served by the app: no inline script, strict CSP. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var BLUE = "#1f5fa8", GREEN = "#2e7d32", RED = "#c0392b", GOLD = "#e0a020";
  var zh = (document.documentElement.lang || "zh").indexOf("en") !== 0;
  var T = zh ? { onTime: "按时率 %", early: "提前率 %", red: "红牌", yellow: "黄牌", cards: "牌数", satisfaction: "满意度（1-5）" }
             : { onTime: "On-time %", early: "Early %", red: "Red cards", yellow: "Yellow cards", cards: "Cards",
                 satisfaction: "Satisfaction (1-5)" };
  var LIGHT_BLUE = "rgba(31, 95, 168, .35)", LIGHT_GREEN = "rgba(46, 125, 50, .35)";
  var percentAxis = { type: "linear", position: "left", min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } };
  var countAxis = { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                    ticks: { precision: 0 }, title: { display: true, text: T.cards } };
  var common = { responsive: true, maintainAspectRatio: false, animation: false,
                 interaction: { mode: "index", intersect: false }, plugins: { legend: { position: "bottom" } } };

  var builders = {
    trend: function (d) {
      return { type: "line", data: { labels: d.labels, datasets: [
        { label: T.onTime, data: d.on_time, borderColor: BLUE, backgroundColor: BLUE, yAxisID: "pct", spanGaps: true, tension: .25 },
        { label: T.early, data: d.early, borderColor: GREEN, backgroundColor: GREEN, yAxisID: "pct", spanGaps: true, tension: .25 },
        { type: "bar", label: T.red, data: d.red, backgroundColor: RED, yAxisID: "n" },
        { type: "bar", label: T.yellow, data: d.yellow, backgroundColor: GOLD, yAxisID: "n" }
      ] }, options: Object.assign({}, common, { scales: { pct: percentAxis, n: countAxis } }) };
    },
    months: function (d) {
      return { type: "line", data: { labels: d.labels, datasets: [
        { label: T.onTime, data: d.on_time, borderColor: BLUE, backgroundColor: BLUE, yAxisID: "pct", spanGaps: true, tension: .25 },
        { label: T.satisfaction, data: d.satisfaction, borderColor: GOLD, backgroundColor: GOLD, yAxisID: "stars",
          spanGaps: true, tension: .25, borderDash: [6, 3], pointStyle: "rectRot", pointRadius: 4 }
      ] }, options: Object.assign({}, common, { scales: { pct: percentAxis,
        stars: { type: "linear", position: "right", min: 1, max: 5, grid: { drawOnChartArea: false },
                 ticks: { stepSize: 1 }, title: { display: true, text: T.satisfaction } } } }) };
    },
    workload: function (d) {
      // An agent on leave: its label says so (from the page) and its bars are pale.
      function tone(strong, pale) { return d.on_leave.map(function (away) { return away ? pale : strong; }); }
      return { type: "bar", data: { labels: d.labels, datasets: [
        { label: d.names.open_projects, data: d.open_projects, backgroundColor: tone(BLUE, LIGHT_BLUE) },
        { label: d.names.open_tasks, data: d.open_tasks, backgroundColor: tone(GREEN, LIGHT_GREEN) }
      ] }, options: Object.assign({}, common, { indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }) };
    },
    departments: function (d) {
      return { type: "bar", data: { labels: d.labels, datasets: [
        { label: T.onTime, data: d.on_time, backgroundColor: BLUE, yAxisID: "pct" },
        { label: T.red, data: d.red, backgroundColor: RED, yAxisID: "n" },
        { label: T.yellow, data: d.yellow, backgroundColor: GOLD, yAxisID: "n" }
      ] }, options: Object.assign({}, common, { scales: { pct: percentAxis, n: countAxis } }) };
    }
  };

  function draw(canvas) {
    var build = builders[canvas.getAttribute("data-chart")];
    if (!build) { return; }
    var values;
    try { values = JSON.parse(canvas.getAttribute("data-values") || "{}"); } catch (e) { return; }
    if (!values.labels || !values.labels.length) {
      canvas.parentNode.classList.add("chart-empty");
      return;
    }
    canvas.chart = new window.Chart(canvas, build(values));
    canvas.setAttribute("data-drawn", "true");
  }

  function start() { Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
