"""The scanner's input edge: PDFs, multi-page TIFFs, JPEG/PNG with EXIF rotation, and every
kind of bad file, each page getting its own result without stopping the batch.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import scanner.images
from scanner.images import expand_inputs, iter_pages
from scanner.pipeline import scan_paths

EXIF_ORIENTATION = 0x0112


@pytest.fixture(scope="module")
def marked_pages(printed_sheets, fill):
    """Four different sheets, sheet n marked `workflow = n + 1`, so order is visible."""
    return [fill(printed_sheets.page(n), {"workflow": n + 1}) for n in range(4)]


def _workflows(results) -> list:
    return [r.answers.get("workflow") for r in results]


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking 1-bit PNG whose header claims `width` x `height` pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A tiny, complete JPEG whose frame header claims `width` x `height` pixels."""
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 255).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any page is decoded into pixels."""
    def refuse(*args, **kwargs):
        raise AssertionError("a refused image was decoded")
    monkeypatch.setattr(scanner.images, "_pil_to_gray", refuse)
    monkeypatch.setattr(scanner.images, "decode_jpeg", refuse)


# -- several pages per file -------------------------------------------------------------------


def test_multi_page_pdf_gives_one_result_per_page_in_order(tmp_path, printed_sheets, marked_pages, save_pdf):
    pdf = save_pdf(marked_pages, tmp_path / "stack.pdf")
    results = list(scan_paths([pdf], home=printed_sheets.home))
    assert [r.page for r in results] == [1, 2, 3, 4]
    assert [r.status for r in results] == ["accepted"] * 4
    assert _workflows(results) == [1, 2, 3, 4]
    assert [r.code.serial for r in results] == [1, 2, 3, 4]


def test_printed_pdf_itself_reads_every_sheet(printed_sheets):
    results = list(scan_paths([printed_sheets.pdf], home=printed_sheets.home))
    assert [r.page for r in results] == list(range(1, len(printed_sheets.serials) + 1))
    assert {r.status for r in results} == {"blank"}  # every sheet read; nobody filled them in
    assert [r.code.serial for r in results] == list(printed_sheets.serials)


def test_multi_page_tiff_gives_one_result_per_page_in_order(tmp_path, printed_sheets, marked_pages,
                                                            save_tiff):
    tiff = save_tiff(marked_pages, tmp_path / "stack.tif")
    results = list(scan_paths([tiff], home=printed_sheets.home))
    assert [r.page for r in results] == [1, 2, 3, 4]
    assert _workflows(results) == [1, 2, 3, 4]


def test_one_bit_tiff_pages_are_read(tmp_path, printed_sheets, marked_pages):
    bilevel = [Image.fromarray(p).convert("1") for p in marked_pages[:2]]
    path = tmp_path / "bilevel.tif"
    bilevel[0].save(path, save_all=True, append_images=bilevel[1:], compression="group4")
    results = list(scan_paths([path], home=printed_sheets.home))
    assert _workflows(results) == [1, 2]


# -- orientation ------------------------------------------------------------------------------


def test_jpeg_with_exif_orientation_6_is_turned_upright(tmp_path, marked_pages, jpeg_bytes, rotate):
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6          # "rotate 90 clockwise to view": pixels stored sideways
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_bytes(rotate(marked_pages[0], 90), exif=exif))
    (page,) = iter_pages(path)
    assert page.gray.shape == marked_pages[0].shape
    assert np.abs(page.gray.astype(int) - marked_pages[0]).mean() < 3


def test_jpeg_with_exif_orientation_6_reads_correctly(tmp_path, printed_sheets, marked_pages,
                                                      jpeg_bytes, rotate):
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_bytes(rotate(marked_pages[2], 90), exif=exif))
    (result,) = scan_paths([path], home=printed_sheets.home)
    assert result.status == "accepted"
    assert result.answers["workflow"] == 3


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".bmp", ".webp"])
def test_every_single_image_format_is_read(tmp_path, printed_sheets, marked_pages, suffix, save):
    params = {"lossless": True} if suffix == ".webp" else {}
    path = save(marked_pages[1], tmp_path / f"scan{suffix}", **params)
    (result,) = scan_paths([path], home=printed_sheets.home)
    assert result.status == "accepted"
    assert result.answers["workflow"] == 2


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_grey_scan_keeps_its_marks(tmp_path, printed_sheets, marked_pages, suffix):
    """Scanners save 16-bit grey at their "high quality" setting; a pen mark at 25/255 is
    6425/65535 there and must still be a mark, not paper white."""
    path = tmp_path / f"deep{suffix}"
    Image.fromarray(marked_pages[1].astype(np.uint16) * 257).save(path)
    assert Image.open(path).mode.startswith("I;16")
    (result,) = scan_paths([path], home=printed_sheets.home)
    assert (result.status, result.answers["workflow"]) == ("accepted", 2)
    (page,) = iter_pages(path)
    worst = int(np.abs(page.gray.astype(int) - marked_pages[1]).max())
    assert worst <= 1


def test_colour_scan_is_read(tmp_path, printed_sheets, marked_pages):
    colour = np.dstack([marked_pages[1], marked_pages[1], np.minimum(marked_pages[1] + 20, 255)])
    path = tmp_path / "colour.png"
    Image.fromarray(colour.astype(np.uint8), "RGB").save(path)
    (result,) = scan_paths([path], home=printed_sheets.home)
    assert result.answers["workflow"] == 2


# -- bad files never stop the batch -----------------------------------------------------------


def test_truncated_jpeg_is_unreadable_and_the_next_file_is_still_read(tmp_path, printed_sheets,
                                                                      marked_pages, jpeg_bytes, save):
    data = jpeg_bytes(marked_pages[0])
    cut = tmp_path / "a_cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    good = save(marked_pages[1], tmp_path / "b_good.png")
    results = list(scan_paths([cut, good], home=printed_sheets.home))
    assert [(r.status, r.reason) for r in results] == [("rejected", "unreadable_image"),
                                                      ("accepted", None)]
    assert results[1].answers["workflow"] == 2


def test_complete_jpeg_with_data_after_its_end_marker_is_read(tmp_path, printed_sheets,
                                                            marked_pages, jpeg_bytes):
    """Phone cameras append trailers after the image (Samsung motion photos end in "SEFT"),
    and some scanners pad files: the image itself is whole and must be read."""
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_bytes(marked_pages[2]) + b"\x00\x00SEFH" + b"\x01" * 64 + b"SEFT")
    (result,) = scan_paths([path], home=printed_sheets.home)
    assert result.status == "accepted"
    assert result.answers["workflow"] == 3


@pytest.mark.parametrize("missing,padding", [(100, b""), (5000, b""), (5000, b"\x00" * 2000),
                                             (5000, b"\xff" * 500)])
def test_jpeg_cut_short_anywhere_is_unreadable(tmp_path, marked_pages, missing, padding, jpeg_bytes):
    """Cut near the end, or padded after the cut (a copy that stopped early), never decoded
    with grey filled in."""
    data = jpeg_bytes(marked_pages[0])
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[:-missing] + padding)
    assert [p.error for p in iter_pages(path)] == ["unreadable_image"]


def _with_thumbnail(jpeg: bytes) -> bytes:
    """The same JPEG with a small complete JPEG (like an EXIF thumbnail) in an APP segment."""
    buffer = io.BytesIO()
    Image.new("L", (32, 32), 128).save(buffer, "JPEG")
    thumbnail = buffer.getvalue()
    segment = b"\xff\xef" + struct.pack(">H", len(thumbnail) + 2) + thumbnail
    return jpeg[:2] + segment + jpeg[2:]


def test_truncated_jpeg_carrying_a_thumbnail_is_still_unreadable(tmp_path, marked_pages, jpeg_bytes):
    """The thumbnail's own end marker must not make a cut-off main image look whole."""
    data = _with_thumbnail(jpeg_bytes(marked_pages[0]))
    whole, cut = tmp_path / "whole.jpg", tmp_path / "cut.jpg"
    whole.write_bytes(data)
    cut.write_bytes(data[: len(data) * 2 // 3])
    assert [p.error for p in iter_pages(whole)] == [None]
    assert [p.error for p in iter_pages(cut)] == ["unreadable_image"]


def test_truncated_png_is_unreadable(tmp_path, marked_pages):
    buffer = io.BytesIO()
    Image.fromarray(marked_pages[0]).save(buffer, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert [p.error for p in iter_pages(path)] == ["unreadable_image"]


def test_text_file_named_jpg_is_not_an_image(tmp_path, printed_sheets, marked_pages, save):
    fake = tmp_path / "a_notes.jpg"
    fake.write_text("this is a shopping list, not a scan\n", encoding="utf-8")
    good = save(marked_pages[3], tmp_path / "b_good.png")
    results = list(scan_paths([fake, good], home=printed_sheets.home))
    assert [r.reason for r in results] == ["not_an_image", None]


def test_empty_file_is_not_an_image(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert [p.error for p in iter_pages(path)] == ["not_an_image"]


def test_missing_file_gets_its_own_result(tmp_path, printed_sheets, marked_pages, save):
    good = save(marked_pages[3], tmp_path / "good.png")
    results = list(scan_paths([tmp_path / "gone.png", good], home=printed_sheets.home))
    assert [r.status for r in results] == ["rejected", "accepted"]
    assert results[0].reason == "unreadable_image"


def test_corrupt_pdf_is_unreadable(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert [p.error for p in iter_pages(path)] == ["unreadable_image"]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width,height", [(10_000, 10_000), (20_000, 20_000)])
def test_png_decompression_bomb_is_refused_without_decoding(tmp_path, no_decoding, width, height):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_claiming(width, height))
    pages = list(iter_pages(path))
    assert [p.error for p in pages] == ["image_too_large"]
    assert pages[0].gray is None


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("width,height", [(10_000, 10_000), (20_000, 20_000)])
def test_jpeg_decompression_bomb_is_refused_as_too_large(tmp_path, no_decoding, width, height):
    path = tmp_path / "bomb.jpg"
    path.write_bytes(_jpeg_claiming(width, height))
    pages = list(iter_pages(path))
    assert [p.error for p in pages] == ["image_too_large"]


def test_image_over_the_pixel_limit_is_refused_and_the_next_is_read(tmp_path, monkeypatch,
                                                                    printed_sheets, marked_pages, save, save_pdf):
    monkeypatch.setattr(scanner.images, "MAX_PIXELS", 1_000_000)   # a 150 dpi A4 is ~2.2 Mpx
    big = save(marked_pages[0], tmp_path / "a_big.png")
    pdf = save_pdf([marked_pages[1]], tmp_path / "b_big.pdf")
    results = list(scan_paths([big, pdf], home=printed_sheets.home))
    assert [r.reason for r in results] == ["image_too_large", "image_too_large"]
    monkeypatch.setattr(scanner.images, "MAX_PIXELS", 60_000_000)
    (result,) = scan_paths([big], home=printed_sheets.home)
    assert result.status == "accepted"


# -- folders ----------------------------------------------------------------------------------


def test_folder_argument_expands_to_its_supported_files(tmp_path, printed_sheets, marked_pages, save,
                                                        save_pdf):
    folder = tmp_path / "inbox"
    (folder / "sub").mkdir(parents=True)
    save(marked_pages[0], folder / "a.png")
    save(marked_pages[1], folder / "sub" / "b.JPG")
    save_pdf([marked_pages[2]], folder / "c.pdf")
    (folder / "notes.txt").write_text("not a scan")
    (folder / "Thumbs.db").write_bytes(b"\x00" * 10)
    assert [p.relative_to(folder).as_posix() for p in expand_inputs([folder])] == [
        "a.png", "c.pdf", "sub/b.JPG"]
    results = list(scan_paths([folder], home=printed_sheets.home))
    assert sorted(_workflows(results)) == [1, 2, 3]
    assert {r.status for r in results} == {"accepted"}



@pytest.mark.parametrize("kind", ["pdf", "tiff"])
def test_pages_beyond_the_per_file_limit_are_reported_not_read(tmp_path, monkeypatch,
                                                               printed_sheets, marked_pages, kind, save_pdf, save_tiff):
    monkeypatch.setattr(scanner.images, "MAX_PAGES_PER_FILE", 2)
    path = (save_pdf(marked_pages[:3], tmp_path / "stack.pdf") if kind == "pdf"
            else save_tiff(marked_pages[:3], tmp_path / "stack.tif"))
    results = list(scan_paths([path], home=printed_sheets.home))
    assert [(r.page, r.reason) for r in results] == [(1, None), (2, None), (3, "too_many_pages")]


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (10, 2000), (2000, 10)])
def test_tiny_or_sliver_image_is_rejected_as_too_small(tmp_path, shape):
    path = tmp_path / "tiny.png"
    Image.new("L", (shape[1], shape[0]), 255).save(path)
    (result,) = scan_paths([path], home=tmp_path / "home")
    assert (result.status, result.reason) == ("rejected", "image_too_small")


def test_a_page_that_crashes_the_reader_is_reported_and_the_next_is_read(
        tmp_path, monkeypatch, printed_sheets, marked_pages, save):
    import scanner.pipeline as pipeline

    real = pipeline.read_sheets
    calls = []

    def flaky(gray, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(gray, *args, **kwargs)

    monkeypatch.setattr(pipeline, "read_sheets", flaky)
    first = save(marked_pages[0], tmp_path / "a.png")
    second = save(marked_pages[1], tmp_path / "b.png")
    results = list(scan_paths([first, second], home=printed_sheets.home))
    assert [(r.status, r.reason) for r in results] == [("rejected", "read_failed"), ("accepted", None)]
