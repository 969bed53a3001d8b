"""Duplicate keys: the same person, and the same Persian text in any spelling (duplicates.py)."""
from __future__ import annotations

from central.duplicates import SIMILAR_TEXT, person_key, text_key, text_similarity

TEXT = "کارت ملی هوشمند من پس از سه ماه هنوز صادر نشده است"


def test_arabic_ye_and_kaf_spell_the_same_key() -> None:
    assert text_key("كارت ملي") == text_key("کارت ملی")


def test_digits_in_any_script_spell_the_same_key() -> None:
    assert text_key("پس از ۳ ماه") == text_key("پس از ٣ ماه") == text_key("پس از 3 ماه")


def test_punctuation_spaces_zwnj_and_tatweel_do_not_count() -> None:
    assert text_key("می‌خواهم  کارت!!") == text_key("می خواهم، کـارت")


def test_the_same_complaint_retyped_is_similar() -> None:
    retyped = "كارت ملي هوشمند من پس از ۳ ماه هنوز صادر نشده!"
    assert text_similarity(text_key(TEXT), text_key(retyped)) >= SIMILAR_TEXT


def test_a_different_complaint_is_not_similar() -> None:
    other = "کارمند باجه‌ی دو با ارباب رجوع بد رفتار کرد و پاسخ نداد"
    assert text_similarity(text_key(TEXT), text_key(other)) < SIMILAR_TEXT


def test_very_short_texts_are_never_called_duplicates() -> None:
    assert text_similarity(text_key("سلام"), text_key("سلام")) == 0.0


def test_person_key_prefers_the_national_id_in_any_digits() -> None:
    assert person_key({"national_id": "۰۴۹۹۳۷۰۸۹۹", "mobile": "09121234567"}) == \
        person_key({"national_id": "0499370899"})


def test_person_key_falls_back_to_the_mobile() -> None:
    assert person_key({"mobile": "09121234567"}) is not None
    assert person_key({"mobile": "09121234567"}) != person_key({"mobile": "09121234568"})


def test_anonymous_and_sealed_cases_have_no_person() -> None:
    assert person_key({"anonymous": True, "national_id": "0499370899"}) is None
    assert person_key({"sealed": {"ciphertext": "..."}, "national_id": "0499370899"}) is None
    assert person_key({}) is None


def test_hamza_on_ye_spells_like_plain_ye() -> None:
    assert text_key("پائیز") == text_key("پاییز")
