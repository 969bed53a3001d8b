"""The kiosk as an appliance on Debian: the systemd units ``seda kiosk install`` writes.

A kiosk PC boots straight into the kiosk and keeps itself running for years:

- ``seda-kiosk.service``: the kiosk server (waitress) on 127.0.0.1, restarted if it exits;
- ``seda-kiosk-watchdog.timer`` / ``.service``: every 30 s asks ``/healthz`` (which opens the
  ledger) and restarts the server when it does not answer in time -- a *hung* server, which
  ``Restart=always`` alone never notices;
- ``seda-sync.timer`` / ``.service``: ``seda sync once`` every minute (a failed contact just
  waits for the next tick; nothing is lost, records stay in the ledger);
- ``seda-scan-watch.service`` (with ``--hot-folder``): the scanner's hot folder;
- ``seda-kiosk-browser.service``: Chromium in kiosk mode inside ``cage`` (a Wayland kiosk
  compositor) on tty1: full screen, no address bar, touch, no pinch zoom or swipe-back, no
  translate bar or first-run pages, screen never blanked, restarted if it crashes.

Pure text here (one function per unit); :func:`install` writes them under a root folder and
enables them the way ``systemctl enable`` does (``*.wants/`` links), so the whole thing is
tested without root and without systemd.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHROMIUM_KIOSK_FLAGS", "Appliance", "install", "unit_files"]

#: Chromium's flags for an unattended touch kiosk (Debian ``chromium``).
CHROMIUM_KIOSK_FLAGS = (
    "--kiosk",                                   # full screen, no address bar, no way out
    "--noerrdialogs",
    "--disable-infobars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-translate",
    "--disable-features=Translate,TouchpadOverscrollHistoryNavigation",
    "--disable-pinch",                           # no pinch zoom
    "--overscroll-history-navigation=0",         # no swipe back/forward
    "--touch-events=enabled",
    "--check-for-update-interval=31536000",
    "--password-store=basic",
    "--incognito",                               # nothing of one visitor kept by the browser
    "--ozone-platform=wayland",
)


@dataclass(frozen=True)
class Appliance:
    """What the units run: the ``seda`` program, as whom, on which port, with which home."""

    seda: str
    user: str
    home: Path
    port: int = 8080
    hot_folder: Path | None = None
    chromium: str = "/usr/bin/chromium"
    cage: str = "/usr/bin/cage"
    tty: str = "tty1"

    @property
    def start_page(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def _q(*words: object) -> str:
    return " ".join(shlex.quote(str(w)) for w in words)


def _service(description: str, exec_start: str, *, user: str | None, home: Path, extra: str = "",
             after: str = "network-online.target", wanted_by: str | None = "multi-user.target",
             kind: str = "simple", restart: str = "always", unit_extra: str = "") -> str:
    lines = ["[Unit]", f"Description={description}", f"After={after}", f"Wants={after}",
             *([unit_extra] if unit_extra else []), "", "[Service]", f"Type={kind}"]
    if user:
        lines.append(f"User={user}")
    lines += [f"Environment={_q('SEDA_HOME=' + str(home))}", "UMask=0077", f"ExecStart={exec_start}"]
    if restart != "no":
        lines += [f"Restart={restart}", "RestartSec=3"]
    if extra:
        lines.append(extra.strip())
    if wanted_by:
        lines += ["", "[Install]", f"WantedBy={wanted_by}"]
    return "\n".join(lines) + "\n"


def _timer(description: str, every: str, unit: str) -> str:
    return (f"[Unit]\nDescription={description}\n\n[Timer]\nOnBootSec=1min\nOnUnitActiveSec={every}\n"
            f"AccuracySec=5s\nUnit={unit}\n\n[Install]\nWantedBy=timers.target\n")


def unit_files(a: Appliance) -> dict[str, str]:
    """File name -> unit text."""
    units = {
        "seda-kiosk.service": _service(
            "Seda kiosk server", _q(a.seda, "kiosk", "serve", "--host", "127.0.0.1", "--port", a.port),
            user=a.user, home=a.home, extra="TimeoutStopSec=20"),
        "seda-kiosk-watchdog.service": _service(
            "Seda kiosk watchdog: restart a hung kiosk server",
            _q(a.seda, "kiosk", "watchdog", "--url", a.start_page + "healthz",
               "--restart-command", "systemctl restart seda-kiosk.service"),
            user=None, home=a.home, kind="oneshot", restart="no", wanted_by=None,
            after="seda-kiosk.service"),
        "seda-kiosk-watchdog.timer": _timer("Seda kiosk watchdog every 30 s", "30s",
                                            "seda-kiosk-watchdog.service"),
        "seda-sync.service": _service(
            "Seda sync: send waiting records, fetch the centre's answers", _q(a.seda, "sync", "once"),
            user=a.user, home=a.home, kind="oneshot", restart="no", wanted_by=None,
            extra="TimeoutStartSec=15min"),
        "seda-sync.timer": _timer("Seda sync every minute", "1min", "seda-sync.service"),
        "seda-kiosk-browser.service": _service(
            "Seda kiosk screen: Chromium in kiosk mode",
            _q(a.cage, "-d", "-s", "--", a.chromium, *CHROMIUM_KIOSK_FLAGS, a.start_page),
            user=a.user, home=a.home, after="seda-kiosk.service systemd-user-sessions.service",
            wanted_by="graphical.target",
            extra="\n".join((
                "PAMName=login", f"TTYPath=/dev/{a.tty}", "StandardInput=tty", "StandardOutput=journal",
                "StandardError=journal", "UtmpIdentifier=" + a.tty, "UtmpMode=user",
                f"ExecStartPre=-/usr/bin/setterm --blank 0 --powerdown 0 --term linux "
                f"--file /dev/{a.tty}",)),
            unit_extra=f"Conflicts=getty@{a.tty}.service"),
    }
    if a.hot_folder is not None:
        units["seda-scan-watch.service"] = _service(
            "Seda scanner hot folder", _q(a.seda, "scan", "watch", a.hot_folder, "--store"),
            user=a.user, home=a.home)
    return units


def _wanted_by(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("WantedBy="):
            return line.split("=", 1)[1]
    return None


def install(a: Appliance, root: Path, *, enable: bool = True) -> list[Path]:
    """Write the units under ``root``/etc/systemd/system and enable them (``*.wants`` links,
    as ``systemctl enable`` makes); returns the files written.  Existing units are replaced."""
    folder = Path(root) / "etc" / "systemd" / "system"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in unit_files(a).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)  # systemd reads units as root; they hold no secret
        written.append(path)
        target = _wanted_by(text)
        if enable and target:
            wants = folder / f"{target}.wants"
            wants.mkdir(exist_ok=True)
            link = wants / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(Path("..") / name)
    return written
