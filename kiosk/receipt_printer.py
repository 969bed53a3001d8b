"""The 80 mm thermal receipt printer: ESC/POS over USB, the network, a device file or Windows.

The receipt is a raster picture (kiosk/receipt_image.py) sent with python-escpos as a
``GS v 0`` raster bit image, then a partial cut.  Where a printer is set in kiosk.yaml::

    receipt_printer: usb:04b8:0202            # vendor:product id, hex (lsusb shows them)
    receipt_printer: network:192.168.1.50     # port 9100 unless given: network:HOST:PORT
    receipt_printer: file:/dev/usb/lp0        # the kernel's usblp device
    receipt_printer: windows:EPSON TM-T20III  # a Windows printer queue, raw

the kiosk prints on it; without one (or when it fails) the browser prints the receipt page.
"""
from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from .i18n import MESSAGES
from .receipt_image import render_receipt
from .receipt_model import ReceiptModel

__all__ = ["PrinterError", "PrinterSpec", "escpos_bytes", "parse_printer", "print_receipt"]

KINDS = ("usb", "network", "file", "windows")
#: python-escpos profile of a common 80 mm printer: 576 dots at 203 dpi, GS v 0 raster.
PROFILE = "TM-T20II"


class PrinterError(Exception):
    """The receipt printer is not set right or cannot print now; says so in Persian and English."""


@dataclass(frozen=True)
class PrinterSpec:
    kind: str
    target: str
    port: int = 9100

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" + (f":{self.port}" if self.kind == "network" else "")


def parse_printer(text: str) -> PrinterSpec:
    """``kind:target`` from kiosk.yaml; a wrong one is refused when the kiosk starts."""
    kind, _, target = text.strip().partition(":")
    if kind not in KINDS or not target:
        raise PrinterError(f"receipt_printer must be one of {', '.join(k + ':...' for k in KINDS)}; "
                           f"got {text!r}")
    if kind == "usb":
        ids = target.split(":")
        try:
            if len(ids) != 2:
                raise ValueError
            int(ids[0], 16), int(ids[1], 16)
        except ValueError:
            raise PrinterError(f"receipt_printer usb:VENDOR:PRODUCT takes two hex ids, e.g. "
                               f"usb:04b8:0202; got {text!r}") from None
    if kind == "network":
        host, _, port = target.partition(":")
        if port:
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise PrinterError(f"receipt_printer: {port!r} is not a port number")
            return PrinterSpec(kind, host, int(port))
    return PrinterSpec(kind, target)


def _open(spec: PrinterSpec, timeout: float):
    from escpos import printer

    if spec.kind == "usb":
        vendor, product = (int(part, 16) for part in spec.target.split(":"))
        return printer.Usb(vendor, product, timeout=int(timeout * 1000), profile=PROFILE)
    if spec.kind == "network":
        return printer.Network(spec.target, spec.port, timeout=timeout, profile=PROFILE)
    if spec.kind == "file":
        return printer.File(spec.target, profile=PROFILE)
    return printer.Win32Raw(spec.target, profile=PROFILE)


def _send(device, image: Image.Image) -> None:
    device.image(image, impl="bitImageRaster", high_density_vertical=True,
                 high_density_horizontal=True)
    device.cut(mode="PART")


def escpos_bytes(model: ReceiptModel) -> bytes:
    """The bytes the printer would receive for this receipt (python-escpos's Dummy printer)."""
    from escpos.printer import Dummy

    device = Dummy(profile=PROFILE)
    _send(device, render_receipt(model))
    return device.output


def print_receipt(spec: PrinterSpec, model: ReceiptModel, timeout: float = 5.0) -> None:
    """Print the receipt now, or raise PrinterError (out of paper, unplugged, unreachable)."""
    image = render_receipt(model)
    try:
        device = _open(spec, timeout)  # python-escpos opens it at the first write
        try:
            _send(device, image)
        finally:
            device.close()
    except Exception as exc:  # noqa: BLE001 - USB, socket and driver errors all mean "not printed"
        raise PrinterError(MESSAGES.line("receipt_printer_did_not_print", spec=str(spec),
                                         error=f"{type(exc).__name__}: {exc}")) from None
