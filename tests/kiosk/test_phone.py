"""Scanning with a phone: the staff page and what it answers for each photo (the real scanner).

Photos are real printed sheets at 150 dpi laid on a darker table; the browser side of the page
is in test_kiosk_phone_browser.py.
"""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from kiosk import create_app
from tests.kiosk_fixtures import MANAGER, OPERATOR, add_staff, csrf_token, make_config, staff_login
from tests.scanner_fixtures import (
    FILLED_ANSWERS,
    fill,
    open_ledger,
    place_on_canvas,
    printed_sheets,  # noqa: F401 - a fixture
)


def photo_of(page: np.ndarray, *, centre_y: int = 1000, degrees: float = 4) -> np.ndarray:
    return place_on_canvas([page], (1500, 2000), [(750, centre_y, degrees, 1.0)])


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


@pytest.fixture
def phone_home(tmp_path, printed_sheets):
    home = printed_sheets.copy_home(tmp_path / "home")
    add_staff(home)
    return home


@pytest.fixture
def operator(phone_home):
    client = create_app(make_config(phone_home)).test_client()
    staff_login(client, OPERATOR)
    return client


def send(client, data: bytes, token: str | None = None):
    if token is None:
        token = csrf_token(client.get("/staff/phone").get_data(as_text=True).replace(
            'data-csrf="', 'name="csrf_token" value="'))
    return client.post("/staff/phone/photo", data={"photo": (io.BytesIO(data), "photo.jpg")},
                       headers={"X-CSRF-Token": token}, content_type="multipart/form-data")


def responses(home) -> list:
    with open_ledger(home) as ledger:
        return list(ledger.records("survey_response"))


def test_phone_page_needs_staff_sign_in(phone_home):
    client = create_app(make_config(phone_home)).test_client()
    response = client.get("/staff/phone")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_phone_page_takes_photos_with_the_camera_and_loads_nothing_from_elsewhere(operator):
    html = operator.get("/staff/phone").get_data(as_text=True)
    assert 'type="file" accept="image/*" capture="environment"' in html
    assert "http://" not in html.replace("http://localhost", "") and "https://" not in html
    assert 'src="/static/js/phone.js"' in html


def test_phone_page_is_in_the_staff_navigation(operator):
    html = operator.get("/staff/review").get_data(as_text=True)
    assert 'href="/staff/phone"' in html


def test_photo_of_a_filled_sheet_is_read_and_stored(operator, phone_home, printed_sheets):
    response = send(operator, jpeg(photo_of(fill(printed_sheets.page(0), FILLED_ANSWERS))))
    answer = response.get_json()
    assert response.status_code == 200
    assert answer["verdict"] == "read"
    assert answer["title"] == "خوانده و ثبت شد"
    assert [s["serial"] for s in answer["sheets"]] == [1]
    (stored,) = responses(phone_home)
    assert stored.body["answers"]["overall"] == FILLED_ANSWERS["overall"]


def test_photo_with_an_unsure_answer_is_stored_for_review(operator, phone_home, printed_sheets):
    page = fill(printed_sheets.page(1), {**FILLED_ANSWERS, "workflow": [2, 4]})
    answer = send(operator, jpeg(photo_of(page))).get_json()
    assert answer["verdict"] == "review"
    assert answer["sheets"][0]["review"] == ["workflow"]
    assert len(responses(phone_home)) == 1


def test_blurred_photo_is_not_stored_and_asks_for_a_sharper_one(operator, phone_home,
                                                                printed_sheets):
    blurred = cv2.GaussianBlur(photo_of(fill(printed_sheets.page(2), FILLED_ANSWERS)), (0, 0), 6)
    answer = send(operator, jpeg(blurred)).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "too_blurred")
    assert "تار" in answer["message"]
    assert responses(phone_home) == []


def test_dark_photo_that_leaves_answers_unsure_asks_for_more_light(operator, phone_home,
                                                                  printed_sheets):
    rng = np.random.default_rng(1)
    photo = photo_of(fill(printed_sheets.page(2), FILLED_ANSWERS))
    dark = np.clip(photo * 0.12 + rng.normal(0, 8, photo.shape), 0, 255).astype(np.uint8)
    answer = send(operator, jpeg(dark)).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "too_dark")
    assert "تاریک" in answer["message"]
    assert responses(phone_home) == []


def test_photo_with_the_bottom_of_the_sheet_cut_off_asks_for_all_four_corners(
        operator, phone_home, printed_sheets):
    cut = photo_of(fill(printed_sheets.page(3), FILLED_ANSWERS), centre_y=1450)
    answer = send(operator, jpeg(cut)).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "corners")
    assert "هر چهار گوشه" in answer["message"]
    assert responses(phone_home) == []


def test_photo_of_the_table_alone_says_no_sheet_was_found(operator, phone_home):
    answer = send(operator, jpeg(place_on_canvas([], (1500, 2000), []))).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "no_sheet")


def test_sheet_photographed_twice_is_stored_once(operator, phone_home, printed_sheets):
    data = jpeg(photo_of(fill(printed_sheets.page(4), FILLED_ANSWERS)))
    assert send(operator, data).get_json()["verdict"] == "read"
    again = send(operator, data).get_json()
    assert (again["verdict"], again["reason"]) == ("refused", "duplicate_sheet")
    assert len(responses(phone_home)) == 1


def test_photo_without_the_csrf_token_is_refused_and_not_read(operator, phone_home,
                                                               printed_sheets):
    response = send(operator, jpeg(photo_of(fill(printed_sheets.page(5), FILLED_ANSWERS))),
                    token="forged")
    assert response.status_code == 302
    assert responses(phone_home) == []


def test_something_that_is_not_a_photo_is_refused(operator):
    answer = send(operator, b"not an image at all").get_json()
    assert (answer["verdict"], answer["reason"]) == ("refused", "not_an_image")


def test_office_manager_may_scan_with_a_phone_too(phone_home, printed_sheets):
    client = create_app(make_config(phone_home)).test_client()
    staff_login(client, MANAGER)
    assert client.get("/staff/phone").status_code == 200
