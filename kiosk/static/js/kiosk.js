/* Seda kiosk: idle reset, history safety, on-screen keyboard, read-aloud and printing.
   Plain JavaScript, no build step; everything the page needs is on this server. */
(function () {
  "use strict";

  var body = document.body;
  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";

  function persianDigits(text) {
    return String(text).replace(/[0-9]/g, function (d) { return PERSIAN[+d]; });
  }

  /* --- history: never show a page from the browser's cache --------------------------------
     Pages are sent with Cache-Control: no-store, so back/forward normally reloads them; if a
     browser still restores one from its back/forward cache, reload it so the server (which
     has forgotten the previous visitor) decides what to show. */
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) { window.location.reload(); }
  });

  /* --- idle reset ---------------------------------------------------------------------------
     After idleSeconds without a touch, a countdown asks "are you still there?"; when it runs
     out the visit is ended on the server (/reset) and the home screen returns. */
  var idleSeconds = parseInt(body.dataset.idleSeconds || "0", 10);
  var countdownSeconds = parseInt(body.dataset.countdownSeconds || "0", 10);
  var idleEnabled = body.dataset.idle === "on" && idleSeconds > 0;
  var lastActivity = Date.now();
  var holds = 0;
  var dialog = document.getElementById("idle-dialog");
  var dialogBody = document.getElementById("idle-body");

  function activity() {
    lastActivity = Date.now();
    if (dialog && !dialog.hidden) { dialog.hidden = true; }
  }
  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (name) {
    document.addEventListener(name, activity, { capture: true, passive: true });
  });

  window.sedaIdle = {
    /* Recording or playing a voice message is activity even without touches. */
    hold: function () { holds += 1; activity(); },
    release: function () { holds = Math.max(0, holds - 1); activity(); },
    enable: function () { idleEnabled = idleSeconds > 0; activity(); }
  };

  function showCountdown(remaining) {
    if (!dialog) { return; }
    var template = dialogBody.dataset.template || "";
    var seconds = dialogBody.dataset.lang === "fa" ? persianDigits(remaining) : String(remaining);
    dialogBody.textContent = template.replace("{s}", seconds);
    if (dialog.hidden) {
      dialog.hidden = false;
      document.getElementById("idle-continue").focus();
    }
  }

  function resetVisit() {
    idleEnabled = false;
    window.location.replace(body.dataset.resetUrl || "/reset");
  }

  window.setInterval(function () {
    if (!idleEnabled || holds > 0) { return; }
    var idle = (Date.now() - lastActivity) / 1000;
    if (idle >= idleSeconds) {
      resetVisit();
    } else if (idle >= idleSeconds - countdownSeconds) {
      showCountdown(Math.ceil(idleSeconds - idle));
    }
  }, 250);

  var idleContinue = document.getElementById("idle-continue");
  if (idleContinue) { idleContinue.addEventListener("click", activity); }

  /* Any change on a quiet home screen (a toggle) turns the idle timer on. */
  document.addEventListener("input", function () { if (idleSeconds > 0) { idleEnabled = true; } });

  /* --- on-screen keyboard -------------------------------------------------------------------
     Fields marked data-osk="text" get the Persian/English keyboard, data-osk="digits" a
     number pad.  Keys never take the focus, so the caret stays where the visitor put it. */
  var osk = document.getElementById("osk");
  var field = null;

  function layoutOf(name) { return osk.querySelector('.osk-layout[data-layout="' + name + '"]'); }

  function showKeyboard(target) {
    field = target;
    var digitsOnly = target.dataset.osk === "digits";
    osk.querySelector(".osk-pad").hidden = !digitsOnly;
    osk.querySelector(".osk-digits-row").hidden = digitsOnly;
    osk.querySelector(".osk-controls").hidden = digitsOnly;
    var active = osk.dataset.layout || (document.documentElement.lang === "en" ? "en" : "fa");
    osk.dataset.layout = active;
    layoutOf("fa").hidden = digitsOnly || active !== "fa";
    layoutOf("en").hidden = digitsOnly || active !== "en";
    osk.hidden = false;
    body.classList.add("osk-open");
    window.setTimeout(function () { target.scrollIntoView({ block: "center" }); }, 0);
  }

  function hideKeyboard() {
    osk.hidden = true;
    body.classList.remove("osk-open");
  }

  function insert(text) {
    if (!field) { return; }
    var start = field.selectionStart === null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd === null ? field.value.length : field.selectionEnd;
    var max = field.maxLength > 0 ? field.maxLength : Infinity;
    if (field.value.length - (end - start) + text.length > max) { return; }
    field.setRangeText(text, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function backspace() {
    if (!field) { return; }
    var start = field.selectionStart, end = field.selectionEnd;
    if (start === null) { start = end = field.value.length; }
    if (start === end && start > 0) {
      /* Remove a whole code point (and a ZWNJ before it), not half a surrogate pair. */
      var before = Array.from(field.value.slice(0, start));
      before.pop();
      start = before.join("").length;
    }
    field.setRangeText("", start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  if (osk) {
    document.addEventListener("focusin", function (event) {
      var target = event.target;
      if (target.matches && target.matches("[data-osk]")) { showKeyboard(target); }
    });
    osk.addEventListener("pointerdown", function (event) {
      if (event.target.closest(".key")) { event.preventDefault(); }
    });
    osk.addEventListener("mousedown", function (event) { event.preventDefault(); });
    osk.addEventListener("click", function (event) {
      var key = event.target.closest(".key");
      if (!key) { return; }
      var action = key.dataset.action;
      if (action === "hide") { hideKeyboard(); return; }
      if (action === "backspace") { backspace(); }
      else if (action === "space") { insert(" "); }
      else if (action === "zwnj") { insert("\u200c"); }
      else if (action === "enter") {
        if (field && field.tagName === "TEXTAREA") { insert("\n"); }
      } else if (action === "lang") {
        osk.dataset.layout = osk.dataset.layout === "fa" ? "en" : "fa";
        layoutOf("fa").hidden = osk.dataset.layout !== "fa";
        layoutOf("en").hidden = osk.dataset.layout !== "en";
      } else if (key.dataset.key) {
        var text = key.dataset.key;
        if (osk.dataset.layout === "en" && key.dataset.keyEn) { text = key.dataset.keyEn; }
        insert(text);
      }
      if (field && document.activeElement !== field) { field.focus({ preventScroll: true }); }
    });
  }

  /* --- read aloud --------------------------------------------------------------------------
     Each button's data-audio lists one clip or several (a tracking code, digit by digit),
     played in turn; a second tap starts again from the first. */
  document.querySelectorAll(".read-aloud").forEach(function (button) {
    var audio = button.parentNode.querySelector(".read-aloud-audio");
    var clips = (button.dataset.audio || "").split(" ").filter(Boolean);
    if (!audio || !clips.length) { return; }
    var index = 0;
    var holding = false;
    function hold() { if (!holding) { holding = true; window.sedaIdle.hold(); } }
    function release() { if (holding) { holding = false; window.sedaIdle.release(); } }
    function playFrom(i) {
      index = i;
      audio.src = clips[i];
      var played = audio.play();
      if (played && played.catch) { played.catch(function () { release(); /* no audio device */ }); }
    }
    audio.addEventListener("play", hold);
    audio.addEventListener("ended", function () {
      if (index + 1 < clips.length) { playFrom(index + 1); } else { release(); }
    });
    audio.addEventListener("error", release);
    button.addEventListener("click", function () {
      audio.pause();
      playFrom(0);
    });
  });

  /* --- fields: an error goes as soon as its field changes; optional fields can be emptied --- */
  function clearError(name) {
    var input = document.getElementById(name);
    if (input) { input.setAttribute("aria-invalid", "false"); }
    document.querySelectorAll('[data-error-for="' + name + '"]').forEach(function (el) { el.hidden = true; });
  }
  ["input", "change"].forEach(function (kind) {
    document.addEventListener(kind, function (event) {
      var target = event.target;
      if (target.name && target.closest && target.closest("form.case-form")) { clearError(target.name); }
    });
  });
  document.querySelectorAll("[data-clear]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.clear);
      if (!input) { return; }
      input.value = "";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.focus({ preventScroll: true });
    });
  });

  /* --- leaving the receipt: "did you note your code?" ------------------------------------- */
  var leave = document.getElementById("receipt-leave");
  var leaveDialog = document.getElementById("leave-dialog");
  if (leave && leaveDialog) {
    leave.addEventListener("click", function (event) {
      event.preventDefault();
      leaveDialog.hidden = false;
      document.getElementById("leave-yes").focus();
    });
    document.getElementById("leave-no").addEventListener("click", function () {
      leaveDialog.hidden = true;
      var code = document.querySelector(".receipt .tracking-code");
      if (code) { code.scrollIntoView({ block: "center" }); }
      leave.focus({ preventScroll: true });
    });
  }

  /* --- one submission per tap ---------------------------------------------------------------
     A double tap must not send a form twice (the second would arrive after the visit it
     belongs to has ended). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent === "1") { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () { form.dataset.sent = ""; }, 4000);
  }, true);

  /* --- printing the receipt ----------------------------------------------------------------- */
  var printButton = document.getElementById("print-receipt");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }
})();
