/* Staff pages: drag-and-drop scan upload and one-key review decisions. */
(function () {
  "use strict";

  var zone = document.querySelector(".drop-zone");
  if (zone) {
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
    });
  }

  /* Review queue: a crop can be zoomed to see a faint or crossed-out mark. */
  Array.prototype.forEach.call(document.querySelectorAll(".zoom-toggle"), function (button) {
    button.addEventListener("click", function () {
      var figure = button.closest(".review-crop");
      var zoomed = figure.classList.toggle("zoomed");
      var img = figure.querySelector("img");
      img.style.width = zoomed ? (img.naturalWidth * 2.5) + "px" : "";
      button.setAttribute("aria-pressed", zoomed ? "true" : "false");
    });
  });

  /* Review queue: Enter confirms the machine's reading of the first item, 1-9 pick an option,
     0 marks "no answer" -- one key per decision, as the issue asks. */
  var first = document.querySelector(".review-item .review-form");
  if (first) {
    document.addEventListener("keydown", function (e) {
      if (e.target.matches("input, textarea, select") || e.altKey || e.ctrlKey || e.metaKey) { return; }
      var key = e.key.replace(/[۰-۹]/g, function (d) { return String(d.charCodeAt(0) - 0x06F0); });
      var button = first.querySelector('[data-shortcut="' + key + '"]');
      if (button) { e.preventDefault(); button.click(); }
    });
  }
})();
