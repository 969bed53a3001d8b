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


@pytest.fixture(scope="session")
def photo_of(place_on_canvas):
    def photo_of(page: np.ndarray, *, centre_y: int = 1000, degrees: float = 4) -> np.ndarray:
        return place_on_canvas([page], (1500, 2000), [(750, centre_y, degrees, 1.0)])

    return photo_of


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


@pytest.fixture
def phone_home(tmp_path, printed_sheets, add_staff):
    home = printed_sheets.copy_home(tmp_path / "home")
    add_staff(home)
    return home


@pytest.fixture
def operator(phone_home, make_config, operator_account, staff_login):
    client = create_app(make_config(phone_home)).test_client()
    staff_login(client, operator_account)
    return client


@pytest.fixture(scope="session")
def send(csrf_token):
    def send(client, data: bytes, token: str | None = None):
        if token is None:
            token = csrf_token(client.get("/staff/phone").get_data(as_text=True).replace(
                'data-csrf="', 'name="csrf_token" value="'))
        return client.post("/staff/phone/photo", data={"photo": (io.BytesIO(data), "photo.jpg")},
                           headers={"X-CSRF-Token": token}, content_type="multipart/form-data")

    return send


@pytest.fixture(scope="session")
def responses(open_ledger):
    def responses(home) -> list:
        with open_ledger(home) as ledger:
            return list(ledger.records("survey_response"))

    return responses


def test_phone_page_needs_staff_sign_in(phone_home, make_config):
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


def test_photo_of_a_filled_sheet_is_read_and_stored(operator, phone_home, printed_sheets, fill,
                                                    filled_answers, photo_of, responses, send):
    response = send(operator, jpeg(photo_of(fill(printed_sheets.page(0), filled_answers))))
    answer = response.get_json()
    assert response.status_code == 200
    assert answer["verdict"] == "read"
    assert answer["title"] == "خوانده و ثبت شد"
    assert [s["serial"] for s in answer["sheets"]] == [1]
    (stored,) = responses(phone_home)
    assert stored.body["answers"]["overall"] == filled_answers["overall"]


def test_photo_with_an_unsure_answer_is_stored_for_review(operator, phone_home, printed_sheets, fill,
                                                          filled_answers, photo_of, responses, send):
    page = fill(printed_sheets.page(1), {**filled_answers, "workflow": [2, 4]})
    answer = send(operator, jpeg(photo_of(page))).get_json()
    assert answer["verdict"] == "review"
    assert answer["sheets"][0]["review"] == ["workflow"]
    assert len(responses(phone_home)) == 1


def test_blurred_photo_is_not_stored_and_asks_for_a_sharper_one(operator, phone_home,
                                                                printed_sheets, fill, filled_answers, photo_of, responses, send):
    blurred = cv2.GaussianBlur(photo_of(fill(printed_sheets.page(2), filled_answers)), (0, 0), 6)
    answer = send(operator, jpeg(blurred)).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "too_blurred")
    assert "تار" in answer["message"]
    assert responses(phone_home) == []


def test_dark_photo_that_leaves_answers_unsure_asks_for_more_light(operator, phone_home,
                                                                  printed_sheets, fill, filled_answers, photo_of, responses, send):
    rng = np.random.default_rng(1)
    photo = photo_of(fill(printed_sheets.page(2), filled_answers))
    dark = np.clip(photo * 0.12 + rng.normal(0, 8, photo.shape), 0, 255).astype(np.uint8)
    answer = send(operator, jpeg(dark)).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "too_dark")
    assert "تاریک" in answer["message"]
    assert responses(phone_home) == []


def test_photo_with_the_bottom_of_the_sheet_cut_off_asks_for_all_four_corners(
        operator, phone_home, printed_sheets, fill, filled_answers, photo_of, responses, send):
    cut = photo_of(fill(printed_sheets.page(3), filled_answers), centre_y=1450)
    answer = send(operator, jpeg(cut)).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "corners")
    assert "هر چهار گوشه" in answer["message"]
    assert responses(phone_home) == []


def test_photo_of_the_table_alone_says_no_sheet_was_found(operator, phone_home, place_on_canvas, send):
    answer = send(operator, jpeg(place_on_canvas([], (1500, 2000), []))).get_json()
    assert (answer["verdict"], answer["reason"]) == ("retake", "no_sheet")


def test_sheet_photographed_twice_is_stored_once(operator, phone_home, printed_sheets, fill,
                                                 filled_answers, photo_of, responses, send):
    data = jpeg(photo_of(fill(printed_sheets.page(4), filled_answers)))
    assert send(operator, data).get_json()["verdict"] == "read"
    again = send(operator, data).get_json()
    assert (again["verdict"], again["reason"]) == ("refused", "duplicate_sheet")
    assert len(responses(phone_home)) == 1


def test_photo_without_the_csrf_token_is_refused_and_not_read(operator, phone_home,
                                                               printed_sheets, fill, filled_answers, photo_of, responses, send):
    response = send(operator, jpeg(photo_of(fill(printed_sheets.page(5), filled_answers))),
                    token="forged")
    assert response.status_code == 302
    assert responses(phone_home) == []


def test_something_that_is_not_a_photo_is_refused(operator, send):
    answer = send(operator, b"not an image at all").get_json()
    assert (answer["verdict"], answer["reason"]) == ("refused", "not_an_image")


def test_office_manager_may_scan_with_a_phone_too(phone_home, printed_sheets, make_config,
                                                  manager_account, staff_login):
    client = create_app(make_config(phone_home)).test_client()
    staff_login(client, manager_account)
    assert client.get("/staff/phone").status_code == 200
