// The answer form of the task page: the result fields only matter for a consent, so hide them for a refusal.
(function () {
  var decision = document.querySelector("[data-decision]");
  var fields = document.querySelector("[data-result-fields]");
  if (!decision || !fields) { return; }
  function update() { fields.hidden = decision.value === "refuse"; }
  decision.addEventListener("change", update);
  update();
}());
