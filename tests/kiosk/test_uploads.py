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

TOO_LARGE = "آنچه فرستاده شد بزرگ‌تر از حدی است که این صفحه می‌پذیرد و ثبت نشد"
NOT_AUDIO = "آنچه فرستاده شد صدای ضبط‌شده نیست و ثبت نشد. لطفاً دوباره ضبط کنید."


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.fixture(scope="session")
def upload_voice(visit_token):
    def upload_voice(client, data: bytes, mimetype="audio/webm"):
        token = visit_token(page(client, "/voice"))
        return client.post("/voice", data={"visit": token, "service": "other",
                                           "audio": (io.BytesIO(data), "message.webm", mimetype)},
                           headers={"Accept": "application/json", "X-Visit-Token": token})

    return upload_voice


@pytest.fixture(scope="session")
def cases(open_ledger):
    def cases(home) -> int:
        with open_ledger(home) as ledger:
            return ledger.count("case")

    return cases


# -- the container check ------------------------------------------------------------------------


def test_real_recordings_are_recognised(recording):
    sample, media_type = recording
    assert recorded_audio_type(sample.read_bytes()) == media_type


def test_a_webm_video_is_not_a_recording(video_recording):
    assert recorded_audio_type(video_recording.read_bytes()) is None


def test_a_cut_off_recording_is_refused(recording):
    data = recording[0].read_bytes()
    assert recorded_audio_type(data[: len(data) // 2 + 3]) is None


@pytest.mark.parametrize("data", [
    b"", b"\x1aE\xdf\xa3 fake webm", b"OggS voice", b"\0\0\0\x18ftypisom", b"RIFF\x24\0\0\0WAVEfmt ",
    b"<html><script>alert(1)</script></html>", b"\x89PNG\r\n\x1a\n" + bytes(64), b"ID3\x04" + bytes(64)])
def test_bytes_that_only_start_like_audio_are_refused(data):
    assert recorded_audio_type(data) is None


def test_a_webm_that_is_not_webm_by_its_doctype_is_refused(webm_recording):
    data = webm_recording.read_bytes().replace(b"webm", b"webx", 1)
    assert recorded_audio_type(data) is None


def test_an_mp4_whose_track_is_video_is_refused(mp4_recording):
    data = mp4_recording.read_bytes().replace(b"soun", b"vide", 1)
    assert recorded_audio_type(data) is None


def test_an_ogg_whose_first_page_is_damaged_is_refused(ogg_recording):
    data = bytearray(ogg_recording.read_bytes())
    data[40] ^= 0xFF  # inside the OpusHead packet: the page checksum no longer matches
    assert recorded_audio_type(bytes(data)) is None


def test_an_ogg_that_is_not_opus_is_refused(ogg_recording):
    data = ogg_recording.read_bytes()
    assert recorded_audio_type(data.replace(b"OpusHead", b"OpusHeat", 1)) is None


def test_a_webm_block_of_an_undeclared_track_is_refused(webm_recording):
    data = bytearray(webm_recording.read_bytes())
    block = data.index(b"\xa3", data.index(b"\x1f\x43\xb6\x75"))  # first SimpleBlock of a Cluster
    size_length = 8 - data[block + 1].bit_length() + 1
    track = block + 1 + size_length
    assert data[track] == 0x81  # track 1
    data[track] = 0x85
    assert recorded_audio_type(bytes(data)) is None


# -- the voice upload -----------------------------------------------------------------------------


def test_each_recording_the_voice_page_can_send_is_filed_with_its_real_type(
        client, kiosk_home, recording, open_ledger, upload_voice):
    sample, media_type = recording
    response = upload_voice(client, sample.read_bytes(), mimetype="audio/webm")
    assert response.get_json()["ok"] is True
    with open_ledger(kiosk_home) as ledger:
        (attachment,) = ledger.records("attachment")
    assert attachment.body["media_type"] == media_type


def test_a_video_labelled_audio_is_refused_in_persian(client, kiosk_home, cases, upload_voice,
                                                      video_recording):
    response = upload_voice(client, video_recording.read_bytes())
    assert response.status_code == 415
    assert response.get_json() == {"ok": False, "error": "voice_not_audio", "message": NOT_AUDIO}
    assert cases(kiosk_home) == 0


# -- body limits ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def longest_case_form(valid_mobile):
    def longest_case_form(token: str) -> dict[str, str]:
        """What the case screen can send at most: 4000 characters of text (the textarea's limit)."""
        return {"visit": token, "type": "complaint", "service": "smart_id_card",
                "text": "گ" * 4000, "name": "ن" * 100, "national_id": "0499370899",
                "mobile": valid_mobile}

    return longest_case_form


def test_the_longest_case_a_visitor_can_type_is_accepted(client, kiosk_home, cases, longest_case_form,
                                                         visit_token):
    token = visit_token(page(client, "/case"))
    form = longest_case_form(token)
    assert len(urlencode(form)) > 24_000
    assert client.post("/case", data=form).headers["Location"] == "/receipt"
    assert cases(kiosk_home) == 1


@pytest.mark.parametrize("path", ["/case", "/report", "/survey/10"])
def test_a_text_form_larger_than_any_visitor_can_type_is_refused_in_persian(client, kiosk_home, path,
                                                                            cases, visit_token):
    token = visit_token(page(client, path))
    response = client.post(path, data={"visit": token, "type": "complaint", "text": "x" * 40_000})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert TOO_LARGE in html and '<html lang="fa" dir="rtl"' in html
    assert cases(kiosk_home) == 0


def test_a_short_form_takes_a_few_kilobytes_at_most(client, visit_token):
    token = visit_token(page(client, "/follow-up"))
    response = client.post("/follow-up", data={"visit": token, "code": "1" * 5000})
    assert response.status_code == 413 and TOO_LARGE in response.get_data(as_text=True)


def test_a_voice_upload_beyond_the_recording_limit_gets_a_json_refusal(kiosk_home, make_config, upload_voice):
    from kiosk import create_app
    client = create_app(make_config(kiosk_home, voice_max_bytes=10_000)).test_client()
    response = upload_voice(client, bytes(200_000))
    assert response.status_code == 413
    assert response.get_json()["error"] == "voice_too_long"


@pytest.mark.parametrize("chunked", [False, True])
def test_a_refused_body_is_answered_not_reset_by_the_real_server(live_kiosk, chunked, open_ledger,
                                                                 visit_token):
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
