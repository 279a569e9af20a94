"""How many SMS segments a text takes, as carriers bill it.

Text that fits the GSM 03.38 alphabet goes 160 characters to a single message and 153 per
part once it is split (the rest carries the concatenation header); anything else — Chinese —
is sent as UCS-2: 70 characters single, 67 per part. Characters outside the Basic
Multilingual Plane (emoji) take two UCS-2 units.
"""

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table: each costs two septets (an escape and the character).
GSM_EXTENDED = set("^{}\\[~]|€\f")


def is_gsm(text: str) -> bool:
    return all(char in GSM_BASIC or char in GSM_EXTENDED for char in text)


def segment_count(text: str) -> int:
    if not text:
        return 1
    if is_gsm(text):
        units = sum(2 if char in GSM_EXTENDED else 1 for char in text)
        single, part = 160, 153
    else:
        units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)
