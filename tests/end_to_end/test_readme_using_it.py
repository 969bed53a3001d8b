"""README.md's "Using it" lines, run exactly and in order in a fresh home, set up a central server
and an office on 127.0.0.1 whose kiosk complaint reaches the centre (issue #16)."""
from __future__ import annotations

import http.cookiejar
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from central import open_store

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_lines() -> list[str]:
    """The commands of the first ``sh`` block under "## Using it", comments dropped."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using it"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [re.split(r"\s+#\s", line)[0].strip() for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def file_complaint(kiosk: str) -> str:
    """A citizen at the kiosk: the complaint form, then the receipt's tracking code."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    html = browser.open(kiosk + "/case", timeout=30).read().decode()
    token = re.search(r'name="visit" value="([^"]+)"', html).group(1)
    form = {"visit": token, "type": "complaint", "service": "smart_id_card",
            "text": "صف طولانی بود و کسی پاسخگو نبود"}
    browser.open(kiosk + "/case", urllib.parse.urlencode(form).encode(), timeout=30).read()
    receipt = browser.open(kiosk + "/receipt", timeout=30).read().decode()
    return re.search(r'data-code="(\d+)"', receipt).group(1)


@pytest.mark.slow
def test_readme_using_it_sends_a_kiosk_complaint_to_the_centre(tmp_path: Path, free_port) -> None:
    central_port, kiosk_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEDA_")}
    env.update(HOME=str(tmp_path), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    background: list[subprocess.Popen] = []
    code = None
    try:
        for line in readme_lines():
            line = line.replace("8750", str(central_port)).replace("8080", str(kiosk_port))
            if line.startswith("export "):
                name = line.split()[1].split("=", 1)[0]
                env[name] = subprocess.run(["bash", "-c", f'{line}; printf %s "${name}"'], env=env,
                                           capture_output=True, text=True, check=True).stdout
            elif line.endswith("&"):
                background.append(subprocess.Popen(["bash", "-c", "exec " + line[:-1]], env=env, cwd=tmp_path,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                port = int(re.search(r"--port (\d+)", line).group(1))
                wait_for(f"http://127.0.0.1:{port}/" + ("v1/health" if "central" in line else "healthz"))
                if "kiosk" in line:  # what the README's comment says happens here
                    code = file_complaint(f"http://127.0.0.1:{port}")
            else:
                done = subprocess.run(["bash", "-c", line], env=env, cwd=tmp_path, capture_output=True,
                                      text=True, timeout=300)
                assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
                if line == "seda sync status":
                    assert re.search(r"\b0 record", done.stdout), done.stdout
    finally:
        for process in background:
            process.terminate()
            process.wait(20)
    assert code is not None
    store = open_store(tmp_path / "seda-central" / "central.sqlite3", migrate=False)
    cases = [r for r in store.records("LOR-01") if r["kind"] == "case"]
    assert [r["body"]["tracking_code"] for r in cases] == [code]
