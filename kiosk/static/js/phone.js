/* Scanning sheets with a phone: take a photo, send it, show the answer, take the next one.

   The photo comes from the phone's own camera through the file input (capture=environment:
   no HTTPS needed, which getUserMedia would need), is made smaller here (at most 2400 px on
   its long side, turned upright by its EXIF tag) so that it travels in a fraction of a
   second over the office Wi-Fi, and goes only to this server. */
(function () {
  "use strict";

  var root = document.getElementById("phone-scan");
  if (!root) { return; }
  var input = document.getElementById("photo");
  var take = document.getElementById("take");
  var takeLabel = take.querySelector(".phone-take-label");
  var result = document.getElementById("result");
  var log = document.getElementById("log");
  var tally = document.getElementById("tally");
  var MAX_SIDE = 2400;
  var persian = root.dataset.lang === "fa";
  var counts = { stored: 0, review: 0, retake: 0 };

  function digits(value) {
    var text = String(value);
    if (!persian) { return text; }
    return text.replace(/\./g, "٫").replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function shrink(file) {
    if (!window.createImageBitmap || !file.type || file.type.indexOf("image/") !== 0) {
      return Promise.resolve(file);
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.92);
      });
    }).catch(function () { return file; });
  }

  function busy(on) {
    take.classList.toggle("working", on);
    take.setAttribute("aria-disabled", on ? "true" : "false");
    input.disabled = on;
    if (on) {
      result.hidden = false;
      result.className = "phone-result working";
      result.textContent = root.dataset.msgWorking;
    }
  }

  function show(answer, seconds) {
    result.hidden = false;
    result.className = "phone-result verdict-" + answer.verdict;
    result.textContent = "";
    result.appendChild(element("p", "phone-verdict", answer.title || answer.message));
    if (answer.message && answer.title) {
      result.appendChild(element("p", "phone-reason", answer.message));
    }
    (answer.sheets || []).forEach(function (sheet) {
      if (!sheet.sheet && !sheet.message) { return; }
      // a photo to take again says why once; what each unreadable part was adds nothing
      if (answer.verdict === "retake" && sheet.status === "rejected") { return; }
      var line = [];
      if (sheet.serial) { line.push(root.dataset.msgSheet + " " + digits(sheet.serial)); }
      if (sheet.review && sheet.review.length) {
        line.push(digits(sheet.review.length) + " " + root.dataset.msgReview);
      }
      if (sheet.message && sheet.message !== answer.message) { line.push(sheet.message); }
      (sheet.warnings || []).forEach(function (w) { line.push(w); });
      if (line.length) { result.appendChild(element("p", "phone-sheet", line.join(persian ? "، " : ", "))); }
    });
    if (seconds !== null) {
      result.appendChild(element("p", "phone-time",
        digits(seconds.toFixed(1)) + " " + root.dataset.msgSeconds));
    }
    var entry = element("li", "verdict-" + answer.verdict);
    entry.textContent = result.querySelector(".phone-verdict").textContent;
    var serials = (answer.sheets || []).filter(function (s) { return s.serial; })
      .map(function (s) { return digits(s.serial); });
    if (serials.length) {
      entry.textContent += (persian ? "، " : ", ") + root.dataset.msgSheet + " " +
        serials.join(persian ? "، " : ", ");
    }
    log.insertBefore(entry, log.firstChild);
    if (answer.verdict === "read" || answer.verdict === "review") { counts.stored += 1; }
    if (answer.verdict === "review") { counts.review += 1; }
    if (answer.verdict === "retake") { counts.retake += 1; }
    Object.keys(counts).forEach(function (key) {
      tally.querySelector('[data-count="' + key + '"]').textContent = digits(counts[key]);
    });
    takeLabel.textContent = root.dataset.msgNext;
  }

  function failed(message) {
    result.hidden = false;
    result.className = "phone-result verdict-error";
    result.textContent = "";
    result.appendChild(element("p", "phone-verdict", root.dataset.msgError));
    result.appendChild(element("p", "phone-reason", message));
  }

  function send(file) {
    var started = Date.now();
    busy(true);
    shrink(file).then(function (blob) {
      var form = new FormData();
      form.append("photo", blob, "photo.jpg");
      return fetch(root.dataset.upload, {
        method: "POST", body: form, credentials: "same-origin",
        headers: { "X-CSRF-Token": root.dataset.csrf, "Accept": "application/json" }
      });
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.redirected || type.indexOf("application/json") === -1) {
        failed(root.dataset.msgSignedOut);
        var link = element("a", "button secondary", root.dataset.msgSignedOut);
        link.href = root.dataset.login;
        result.appendChild(link);
        return;
      }
      return response.json().then(function (answer) {
        if (answer.verdict === "error") { failed(answer.message); return; }
        show(answer, (Date.now() - started) / 1000);
      });
    }).catch(function () {
      failed(root.dataset.msgFailed);
    }).then(function () {
      busy(false);
      input.value = "";
      take.focus();
    });
  }

  input.addEventListener("change", function () {
    if (input.files && input.files.length) { send(input.files[0]); }
  });
  take.addEventListener("keydown", function (e) {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  take.setAttribute("role", "button");
  take.setAttribute("tabindex", "0");
})();
