"""Human-friendly ticket numbers with a check digit.

A number is the local date the ticket was opened and its id, then one Luhn check digit over
all digits: `20261123-0042` + `7` → `20261123-00427`. The id makes it unique without a
counter row that every intake would have to lock; the check digit catches a mistyped digit
or two swapped neighbours when a customer reads the number out on the phone.
"""

from datetime import date


def luhn_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def ticket_number(*, opened_on: date, ticket_id: int) -> str:
    body = f"{opened_on:%Y%m%d}-{ticket_id:04d}"
    return f"{body}{luhn_digit(body.replace('-', ''))}"


def is_valid_number(number: str) -> bool:
    digits = number.strip().replace("-", "")
    if len(digits) < 10 or not digits.isdigit():
        return False
    return luhn_digit(digits[:-1]) == int(digits[-1])


def ticket_id_of(number: str) -> int | None:
    """The ticket id inside a number made by `ticket_number`, or None if it is not one."""
    _date, _dash, rest = number.partition("-")
    if not rest[:-1].isdigit() or not is_valid_number(number):
        return None
    return int(rest[:-1])
