"""What anonymous visitors may send: real recordings only, and bodies no larger than each form.

The recordings are real MediaRecorder output (tests/kiosk/audio_samples/record.py); the refusals are
those same files with one thing changed, so each test shows the check that catches it.
"""
from __future__ import annotations

import http.client
import io
from urllib.parse import urlencode, urlsplit

import pytest

from kiosk.audio import recorded_audio_type

from tests.kiosk_fixtures import (  # noqa: F401 - app, client, kiosk_home and live_kiosk are fixtures
    MP4_RECORDING, OGG_RECORDING, VIDEO_RECORDING, VALID_MOBILE, WEBM_RECORDING, app, client,
    kiosk_home, live_kiosk, make_config, open_ledger, visit_token)

TOO_LARGE = "آنچه فرستاده شد بزرگ‌تر از حدی است که این صفحه می‌پذیرد و ثبت نشد"
NOT_AUDIO = "آنچه فرستاده شد صدای ضبط‌شده نیست و ثبت نشد. لطفاً دوباره ضبط کنید."


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def upload_voice(client, data: bytes, mimetype="audio/webm"):
    token = visit_token(page(client, "/voice"))
    return client.post("/voice", data={"visit": token, "service": "other",
                                       "audio": (io.BytesIO(data), "message.webm", mimetype)},
                       headers={"Accept": "application/json", "X-Visit-Token": token})


def cases(home) -> int:
    with open_ledger(home) as ledger:
        return ledger.count("case")


# -- the container check ------------------------------------------------------------------------


@pytest.mark.parametrize("sample, media_type", [
    (WEBM_RECORDING, "audio/webm"), (MP4_RECORDING, "audio/mp4"), (OGG_RECORDING, "audio/ogg")])
def test_real_recordings_are_recognised(sample, media_type):
    assert recorded_audio_type(sample.read_bytes()) == media_type


def test_a_webm_video_is_not_a_recording():
    assert recorded_audio_type(VIDEO_RECORDING.read_bytes()) is None


@pytest.mark.parametrize("sample", [WEBM_RECORDING, MP4_RECORDING, OGG_RECORDING])
def test_a_cut_off_recording_is_refused(sample):
    data = sample.read_bytes()
    assert recorded_audio_type(data[: len(data) // 2 + 3]) is None


@pytest.mark.parametrize("data", [
    b"", b"\x1aE\xdf\xa3 fake webm", b"OggS voice", b"\0\0\0\x18ftypisom", b"RIFF\x24\0\0\0WAVEfmt ",
    b"<html><script>alert(1)</script></html>", b"\x89PNG\r\n\x1a\n" + bytes(64), b"ID3\x04" + bytes(64)])
def test_bytes_that_only_start_like_audio_are_refused(data):
    assert recorded_audio_type(data) is None


def test_a_webm_that_is_not_webm_by_its_doctype_is_refused():
    data = WEBM_RECORDING.read_bytes().replace(b"webm", b"webx", 1)
    assert recorded_audio_type(data) is None


def test_an_mp4_whose_track_is_video_is_refused():
    data = MP4_RECORDING.read_bytes().replace(b"soun", b"vide", 1)
    assert recorded_audio_type(data) is None


def test_an_ogg_whose_first_page_is_damaged_is_refused():
    data = bytearray(OGG_RECORDING.read_bytes())
    data[40] ^= 0xFF  # inside the OpusHead packet: the page checksum no longer matches
    assert recorded_audio_type(bytes(data)) is None


def test_an_ogg_that_is_not_opus_is_refused():
    data = OGG_RECORDING.read_bytes()
    assert recorded_audio_type(data.replace(b"OpusHead", b"OpusHeat", 1)) is None


def test_a_webm_block_of_an_undeclared_track_is_refused():
    data = bytearray(WEBM_RECORDING.read_bytes())
    block = data.index(b"\xa3", data.index(b"\x1f\x43\xb6\x75"))  # first SimpleBlock of a Cluster
    size_length = 8 - data[block + 1].bit_length() + 1
    track = block + 1 + size_length
    assert data[track] == 0x81  # track 1
    data[track] = 0x85
    assert recorded_audio_type(bytes(data)) is None


# -- the voice upload -----------------------------------------------------------------------------


@pytest.mark.parametrize("sample, media_type", [
    (WEBM_RECORDING, "audio/webm"), (MP4_RECORDING, "audio/mp4"), (OGG_RECORDING, "audio/ogg")])
def test_each_recording_the_voice_page_can_send_is_filed_with_its_real_type(
        client, kiosk_home, sample, media_type):
    response = upload_voice(client, sample.read_bytes(), mimetype="audio/webm")
    assert response.get_json()["ok"] is True
    with open_ledger(kiosk_home) as ledger:
        (attachment,) = ledger.records("attachment")
    assert attachment.body["media_type"] == media_type


def test_a_video_labelled_audio_is_refused_in_persian(client, kiosk_home):
    response = upload_voice(client, VIDEO_RECORDING.read_bytes())
    assert response.status_code == 415
    assert response.get_json() == {"ok": False, "error": "voice_not_audio", "message": NOT_AUDIO}
    assert cases(kiosk_home) == 0


# -- body limits ----------------------------------------------------------------------------------


def longest_case_form(token: str) -> dict[str, str]:
    """What the case screen can send at most: 4000 characters of text (the textarea's limit)."""
    return {"visit": token, "type": "complaint", "service": "smart_id_card",
            "text": "گ" * 4000, "name": "ن" * 100, "national_id": "0499370899",
            "mobile": VALID_MOBILE}


def test_the_longest_case_a_visitor_can_type_is_accepted(client, kiosk_home):
    token = visit_token(page(client, "/case"))
    form = longest_case_form(token)
    assert len(urlencode(form)) > 24_000
    assert client.post("/case", data=form).headers["Location"] == "/receipt"
    assert cases(kiosk_home) == 1


@pytest.mark.parametrize("path", ["/case", "/report", "/survey/10"])
def test_a_text_form_larger_than_any_visitor_can_type_is_refused_in_persian(client, kiosk_home, path):
    token = visit_token(page(client, path))
    response = client.post(path, data={"visit": token, "type": "complaint", "text": "x" * 40_000})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert TOO_LARGE in html and '<html lang="fa" dir="rtl"' in html
    assert cases(kiosk_home) == 0


def test_a_short_form_takes_a_few_kilobytes_at_most(client):
    token = visit_token(page(client, "/follow-up"))
    response = client.post("/follow-up", data={"visit": token, "code": "1" * 5000})
    assert response.status_code == 413 and TOO_LARGE in response.get_data(as_text=True)


def test_a_voice_upload_beyond_the_recording_limit_gets_a_json_refusal(kiosk_home):
    from kiosk import create_app
    client = create_app(make_config(kiosk_home, voice_max_bytes=10_000)).test_client()
    response = upload_voice(client, bytes(200_000))
    assert response.status_code == 413
    assert response.get_json()["error"] == "voice_too_long"


@pytest.mark.parametrize("chunked", [False, True])
def test_a_refused_body_is_answered_not_reset_by_the_real_server(live_kiosk, chunked):
    """waitress reads the body (de-chunking it, so its length is known) before the app
    answers, so the visitor's browser gets the Persian page, not a dropped connection, even
    for a body far over the form's limit."""
    url = urlsplit(live_kiosk.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request("GET", "/case")
        first = connection.getresponse()
        cookie = first.getheader("Set-Cookie").split(";")[0]
        token = visit_token(first.read().decode("utf-8"))
        body = urlencode({"visit": token, "type": "complaint", "text": "ب" * 200_000}).encode()
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        if chunked:
            body = iter([body[:50_000], body[50_000:]])
            headers["Transfer-Encoding"] = "chunked"
        connection.request("POST", "/case", body=body, headers=headers, encode_chunked=chunked)
        response = connection.getresponse()
        html = response.read().decode("utf-8")
    finally:
        connection.close()
    assert response.status == 413 and TOO_LARGE in html
    with open_ledger(live_kiosk.home) as ledger:
        assert ledger.count("case") == 0
