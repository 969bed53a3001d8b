"""The thermal receipt: ESC/POS raster bytes decoded back to a picture, its QR read with pyzbar."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, features
from pyzbar.pyzbar import decode

from forms.typography import font_path
from kiosk import create_app
from kiosk.config import ConfigError
from kiosk.receipt_image import PAPER_DOTS, render_receipt, shape
from kiosk.receipt_model import receipt_model
from kiosk.receipt_printer import PrinterError, escpos_bytes, parse_printer

GS_V_0 = b"\x1dv0"
PARTIAL_CUT = b"\x1dV\x01"  # GS V 1, after feeding the paper past the cutter


def decode_raster(data: bytes) -> Image.Image:
    """Every `GS v 0` raster image in the bytes, stacked top to bottom, as the paper shows it."""
    parts, at = [], 0
    while (at := data.find(GS_V_0, at)) != -1:
        width_bytes = data[at + 4] | data[at + 5] << 8
        height = data[at + 6] | data[at + 7] << 8
        start = at + 8
        bits = np.unpackbits(np.frombuffer(data[start:start + width_bytes * height], dtype=np.uint8))
        parts.append(bits.reshape(height, width_bytes * 8))
        at = start + width_bytes * height
    assert parts, "no raster image in the bytes"
    return Image.fromarray(np.where(np.vstack(parts) == 1, 0, 255).astype(np.uint8), "L")


def a_receipt(**changes):
    receipt = {"tracking_code": "123456782", "type": "complaint", "route": "office",
               "created_at": datetime(2026, 12, 2, 8, 30, tzinfo=timezone.utc), **changes}
    return receipt_model(receipt, office="LOR-03")


def test_the_receipt_bytes_decode_to_an_image_whose_qr_is_the_cases_link() -> None:
    model = a_receipt(follow_up_url="https://seda.example.ir/follow/123456782")
    data = escpos_bytes(model)
    picture = decode_raster(data)
    assert picture.width == PAPER_DOTS
    assert [code.data.decode() for code in decode(picture)] == ["https://seda.example.ir/follow/123456782"]
    assert data.endswith(PARTIAL_CUT)


def test_without_a_link_the_qr_holds_the_tracking_code() -> None:
    assert [c.data.decode() for c in decode(decode_raster(escpos_bytes(a_receipt())))] == ["123456782"]


def test_the_printed_picture_is_the_rendered_receipt_dot_for_dot() -> None:
    model = a_receipt()
    printed = decode_raster(escpos_bytes(model))
    rendered = render_receipt(model).convert("L")
    assert printed.size == rendered.size
    assert ImageChops.difference(printed, rendered).getbbox() is None


def test_the_model_holds_the_receipt_screens_facts_in_persian_digits() -> None:
    model = a_receipt(route="oversight")
    assert model.tracking_code == "۱۲۳۴ ۵۶۷۸ ۲"
    assert ("نوع", "شکایت") in model.lines and ("اداره", "LOR-03") in model.lines
    assert model.notice == "ارسال‌شده به واحد نظارت و بازرسی"


@pytest.mark.skipif(not features.check("raqm"), reason="Pillow without libraqm: no independent shaper")
@pytest.mark.parametrize("text", ["کد رهگیری شما", "شکایت", "ارسال‌شده به واحد نظارت و بازرسی"])
def test_persian_on_the_receipt_is_shaped_as_harfbuzz_shapes_it(text: str) -> None:
    """Our shaping (arabic_reshaper + bidi, as the PDFs do) drawn plainly must look like the
    logical text laid out by HarfBuzz (Pillow's raqm engine): joined letters, right to left."""
    def draw(string: str, layout) -> Image.Image:
        font = ImageFont.truetype(str(font_path()), 40, layout_engine=layout)
        image = Image.new("L", (900, 90), 255)
        ImageDraw.Draw(image).text((10, 10), string, font=font, fill=0)
        return image.crop(ImageChops.invert(image).getbbox())

    ours = draw(shape(text), ImageFont.Layout.BASIC)
    reference = draw(text, ImageFont.Layout.RAQM)
    unshaped = draw(text, ImageFont.Layout.BASIC)  # isolated letters, left to right: wrong
    assert abs(ours.width - reference.width) <= 0.03 * reference.width  # kerning aside
    same = ImageChops.difference(ours.resize(reference.size), reference)
    wrong = ImageChops.difference(unshaped.resize(reference.size), reference)
    assert np.asarray(same).mean() < np.asarray(wrong).mean() / 3


@pytest.mark.parametrize("setting", ["usb:04b8", "lpt:1", "network:printer:99999", "usb:zz:01"])
def test_a_wrong_printer_setting_is_refused_when_the_kiosk_loads(kiosk_home: Path, setting: str,
                                                                 make_config) -> None:
    with pytest.raises(ConfigError, match="receipt_printer"):
        make_config(kiosk_home, receipt_printer=setting)


def test_printer_settings_are_read() -> None:
    assert str(parse_printer("network:192.168.1.50")) == "network:192.168.1.50:9100"
    assert parse_printer("usb:04b8:0202").target == "04b8:0202"
    with pytest.raises(PrinterError):
        parse_printer("")


@pytest.fixture(scope="session")
def file_a_complaint(visit_token):
    def file_a_complaint(client) -> str:
        html = client.get("/case").get_data(as_text=True)
        client.post("/case", data={"visit": visit_token(html), "type": "complaint",
                                   "service": "smart_id_card", "text": "صف طولانی بود"})
        html = client.get("/receipt").get_data(as_text=True)
        return re.search(r'data-code="(\d+)"', html).group(1)

    return file_a_complaint


def test_the_kiosk_prints_the_receipt_on_its_printer(kiosk_home: Path, tmp_path: Path, file_a_complaint,
                                                     make_config, visit_token) -> None:
    device = tmp_path / "lp0"  # the kernel's usblp device file, here a plain file
    client = create_app(make_config(kiosk_home, receipt_printer=f"file:{device}")).test_client()
    code = file_a_complaint(client)
    html = client.get("/receipt").get_data(as_text=True)
    response = client.post("/receipt/print", data={"visit": visit_token(html)})
    assert response.status_code == 302 and response.headers["Location"] == "/receipt"
    assert [c.data.decode() for c in decode(decode_raster(device.read_bytes()))] == [code]
    assert "رسید چاپ شد" in client.get("/receipt").get_data(as_text=True)


def test_a_printer_that_fails_leaves_the_code_on_screen_and_offers_the_browser(kiosk_home: Path,
                                                                               tmp_path: Path, file_a_complaint, make_config, visit_token) -> None:
    client = create_app(make_config(kiosk_home, receipt_printer=f"file:{tmp_path / 'gone' / 'lp0'}")).test_client()
    code = file_a_complaint(client)
    html = client.get("/receipt").get_data(as_text=True)
    response = client.post("/receipt/print", data={"visit": visit_token(html)})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert f'data-code="{code}"' in page and 'id="print-receipt"' in page
    assert "چاپگر رسید اکنون چاپ نمی‌کند" in page


def test_with_a_portal_the_printed_slip_links_home_like_the_screen(kiosk_home: Path,
                                                                   tmp_path: Path, file_a_complaint, make_config, visit_token) -> None:
    """The slip and the screen carry one follow-up link (made once per receipt), and the slip
    says the deadline and where to read the answer (issues 14 and 16 meet here)."""
    device = tmp_path / "lp0"
    client = create_app(make_config(kiosk_home, receipt_printer=f"file:{device}",
                                    portal_url="https://seda.example.ir")).test_client()
    code = file_a_complaint(client)
    html = client.get("/receipt").get_data(as_text=True)
    assert client.post("/receipt/print", data={"visit": visit_token(html)}).status_code == 302
    [printed] = [c.data.decode() for c in decode(decode_raster(device.read_bytes()))]
    assert printed.startswith(f"https://seda.example.ir/f/{code}?o=")
    from kiosk.visitor import _qr_svg  # the screen's QR, drawn from the link the slip holds
    assert _qr_svg(printed) in client.get("/receipt").get_data(as_text=True)


def test_the_slip_model_names_the_office_the_deadline_and_the_portal() -> None:
    receipt = {"tracking_code": "123456782", "type": "complaint", "route": "office",
               "has_mobile": True, "created_at": datetime(2026, 12, 2, 8, 30, tzinfo=timezone.utc)}
    model = receipt_model(receipt, office="LOR-03", office_name="اداره ثبت احوال خرم‌آباد",
                          deadline_days=10, portal_url="https://seda.example.ir")
    assert ("اداره", "اداره ثبت احوال خرم‌آباد") in model.lines
    assert "۱۰ روز کاری" in model.note and "https://seda.example.ir" in model.note
    assert "چهار رقم آخر" in model.note
