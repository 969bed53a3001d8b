"""Re-record the voice-upload test samples with Debian's Chromium (fake microphone).

The kiosk's voice page records with MediaRecorder; these are what Chromium produces for the
types voice.js asks for, so the container checks in kiosk/audio.py are tested on real output:

    .venv/bin/python tests/kiosk/audio_samples/record.py

``chromium-opus.webm`` and ``chromium-opus.mp4`` are one second of the fake microphone's tone;
``chromium-video.webm`` is one second of a canvas (a video that must be refused).  The Ogg
Opus sample (what Firefox records) is one of the kiosk's own read-aloud clips.
"""
from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream"]

RECORD = """async ([kind, type]) => {
  let stream;
  if (kind === 'audio') {
    stream = await navigator.mediaDevices.getUserMedia({audio: true});
  } else {
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 64;
    const ctx = canvas.getContext('2d');
    let n = 0;
    setInterval(() => { ctx.fillStyle = `hsl(${(n += 20) % 360},80%,50%)`; ctx.fillRect(0, 0, 64, 64); }, 40);
    stream = canvas.captureStream(25);
  }
  const recorder = new MediaRecorder(stream, {mimeType: type});
  const chunks = [];
  recorder.ondataavailable = e => { if (e.data.size) chunks.push(e.data); };
  const done = new Promise(resolve => { recorder.onstop = resolve; });
  recorder.start(250);
  await new Promise(r => setTimeout(r, 1000));
  recorder.stop();
  await done;
  stream.getTracks().forEach(t => t.stop());
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""

SAMPLES = {
    "chromium-opus.webm": ("audio", "audio/webm;codecs=opus"),
    "chromium-opus.mp4": ("audio", "audio/mp4"),
    "chromium-video.webm": ("video", "video/webm"),
}


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        context = browser.new_context()
        page = context.new_page()
        # A secure context (localhost), served by Playwright itself: no server needed.
        page.route("http://localhost/", lambda route: route.fulfill(
            body="<!doctype html><title>samples</title>", content_type="text/html"))
        page.goto("http://localhost/")
        for name, (kind, media_type) in SAMPLES.items():
            data = base64.b64decode(page.evaluate(RECORD, [kind, media_type]))
            (HERE / name).write_bytes(data)
            print(f"{name}: {len(data)} bytes")
        browser.close()


if __name__ == "__main__":
    main()
