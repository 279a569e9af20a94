from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tickets.identity import mask_email, mask_phone, normalise_email, normalise_phone
from tickets.numbers import is_valid_number, luhn_digit, ticket_id_of, ticket_number


@pytest.mark.parametrize(
    "raw",
    ["+86 138-0013-8000", "13800138000", "008613800138000", "+8613800138000", " 138 0013 8000 "],
)
def test_chinese_mobile_spellings_normalise_to_one_e164(raw):
    assert normalise_phone(raw) == "+8613800138000"


def test_a_foreign_number_keeps_its_country():
    assert normalise_phone("+1 (415) 555-2671") == "+14155552671"


@pytest.mark.parametrize("raw", ["12", "hello", "", "+86 1"])
def test_impossible_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        normalise_phone(raw)


def test_email_is_lower_cased_and_validated():
    assert normalise_email(" Li.Na@Example.COM ") == "li.na@example.com"
    with pytest.raises(ValidationError):
        normalise_email("not-an-email")


def test_masks_keep_only_what_identifies_the_contact_to_its_owner():
    assert mask_phone("+8613800138000") == "+86138****8000"
    assert mask_email("li.na@example.com") == "l***@example.com"


def test_ticket_numbers_carry_a_luhn_check_digit():
    number = ticket_number(opened_on=date(2026, 11, 23), ticket_id=42)

    assert number == "20261123-0042" + str(luhn_digit("202611230042"))
    assert is_valid_number(number)


def test_a_mistyped_or_swapped_digit_fails_the_check():
    from datetime import date

    number = ticket_number(opened_on=date(2026, 11, 23), ticket_id=4271)
    digits = list(number)
    digits[-3], digits[-2] = digits[-2], digits[-3]
    typo = number[:-2] + str((int(number[-2]) + 1) % 10) + number[-1]

    swapped = "".join(digits)

    assert swapped != number
    assert not is_valid_number(swapped)
    assert not is_valid_number(typo)
    assert not is_valid_number("abc")


def test_the_ticket_id_is_read_back_from_a_valid_number_only():
    number = ticket_number(opened_on=date(2026, 11, 23), ticket_id=42)
    assert ticket_id_of(number) == 42
    assert ticket_id_of(ticket_number(opened_on=date(2026, 1, 2), ticket_id=123456)) == 123456
    wrong_check = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert ticket_id_of(wrong_check) is None
    assert ticket_id_of("") is None
    assert ticket_id_of("20261123-") is None
