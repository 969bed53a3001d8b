/* Voice messages (Article 9, clause 6): record with MediaRecorder, listen, then send or delete.
   Nothing leaves the kiosk until "send"; the recording is posted to this server only. */
(function () {
  "use strict";

  var form = document.getElementById("voice-form");
  if (!form) { return; }
  var maxSeconds = parseInt(form.dataset.maxSeconds || "120", 10);
  var lang = form.dataset.lang;
  var recordButton = document.getElementById("voice-record");
  var stopButton = document.getElementById("voice-stop");
  var review = document.getElementById("voice-review");
  var playback = document.getElementById("voice-playback");
  var status = document.getElementById("voice-status");
  var timer = document.getElementById("voice-timer");
  var sendButton = document.getElementById("voice-send");
  var discardButton = document.getElementById("voice-discard");
  var playButton = document.getElementById("voice-play");
  var services = document.getElementById("voice-services");

  function chosenService() {
    var checked = form.querySelector('input[name="service"]:checked');
    return checked ? checked.value : "";
  }
  var recorder = null, chunks = [], blob = null, stream = null, started = 0, ticker = null, objectUrl = null;

  function digits(n) {
    var text = String(n);
    return lang === "fa" ? text.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[+d]; }) : text;
  }
  function clock(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return digits(m + ":" + (s < 10 ? "0" : "") + s);
  }
  function say(text) { status.textContent = text; }

  function chooseType() {
    var types = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
    for (var i = 0; i < types.length; i++) {
      if (window.MediaRecorder && MediaRecorder.isTypeSupported(types[i])) { return types[i]; }
    }
    return "";
  }

  function stopTracks() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
  }

  function finish() {
    window.clearInterval(ticker);
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
  }

  recordButton.addEventListener("click", function () {
    if (!chosenService()) {
      say(form.dataset.msgChooseService);
      services.scrollIntoView({ block: "center" });
      services.classList.add("needs-choice");
      return;
    }
    if (!navigator.mediaDevices || !window.MediaRecorder) { say(form.dataset.msgNoMic); return; }
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
      stream = s;
      chunks = [];
      var type = chooseType();
      recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
      recorder.addEventListener("dataavailable", function (e) { if (e.data && e.data.size) { chunks.push(e.data); } });
      recorder.addEventListener("stop", function () {
        stopTracks();
        timer.textContent = clock(Math.min(maxSeconds, Math.round((Date.now() - started) / 1000)));
        window.sedaIdle.release();
        blob = new Blob(chunks, { type: (recorder.mimeType || "audio/webm").split(";")[0] });
        if (objectUrl) { URL.revokeObjectURL(objectUrl); }
        objectUrl = URL.createObjectURL(blob);
        playback.src = objectUrl;
        review.hidden = false;
        stopButton.hidden = true;
        recordButton.hidden = false;
        say(form.dataset.msgRecorded);
      });
      recorder.start(1000);
      window.sedaIdle.hold();
      started = Date.now();
      recordButton.hidden = true;
      stopButton.hidden = false;
      review.hidden = true;
      say(form.dataset.msgRecording);
      timer.textContent = clock(maxSeconds);
      ticker = window.setInterval(function () {
        var left = maxSeconds - Math.floor((Date.now() - started) / 1000);
        timer.textContent = clock(Math.max(0, left));
        if (left <= 0) { finish(); }
      }, 250);
      stopButton.focus();
    }).catch(function () { say(form.dataset.msgNoMic); });
  });

  stopButton.addEventListener("click", finish);

  discardButton.addEventListener("click", function () {
    blob = null;
    chunks = [];
    playback.pause();
    playback.removeAttribute("src");
    review.hidden = true;
    timer.textContent = "";
    say("");
    recordButton.focus();
  });

  sendButton.addEventListener("click", function () {
    if (!blob) { return; }
    sendButton.disabled = true;
    say(form.dataset.msgSending);
    var data = new FormData();
    data.append("visit", document.body.dataset.visitToken);
    data.append("service", chosenService());
    /* The server reads the container from the bytes (WebM, Ogg or MP4); the name is a hint. */
    var extension = blob.type.indexOf("ogg") >= 0 ? "ogg" : (blob.type.indexOf("mp4") >= 0 ? "m4a" : "webm");
    data.append("audio", blob, "message." + extension);
    fetch(form.dataset.uploadUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-Visit-Token": document.body.dataset.visitToken }
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (result) {
      if (result.ok && result.json.ok) { window.location.assign(result.json.next); return; }
      sendButton.disabled = false;
      say(result.json.message || form.dataset.msgFailed);
      if (result.json.error === "visit_ended" && result.json.next) { window.location.assign(result.json.next); }
    }).catch(function () {
      sendButton.disabled = false;
      say(form.dataset.msgFailed);
    });
  });

  /* One big play/stop button instead of the browser's small player. */
  function showPlaying(playing) {
    playButton.setAttribute("aria-pressed", playing ? "true" : "false");
    playButton.querySelector("span").textContent = playing ? form.dataset.msgPause : form.dataset.msgPlay;
  }
  playButton.addEventListener("click", function () {
    if (playback.paused) {
      var played = playback.play();
      if (played && played.catch) { played.catch(function () { showPlaying(false); }); }
    } else {
      playback.pause();
      playback.currentTime = 0;
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "service") { services.classList.remove("needs-choice"); say(""); }
  });
  playback.addEventListener("play", function () { window.sedaIdle.hold(); showPlaying(true); });
  ["pause", "ended"].forEach(function (n) {
    playback.addEventListener(n, function () { window.sedaIdle.release(); showPlaying(false); });
  });
})();
