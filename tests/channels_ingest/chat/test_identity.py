"""Visitor signatures, origins and the per-socket rate limit: plain functions, no database."""

import hashlib
import hmac

import pytest

from channels_ingest.chat.identity import (
    VisitorRefused,
    origin_allowed,
    sign_visitor,
    visitor_anonymous,
    visitor_verify,
)
from channels_ingest.chat.limits import TokenBucket

SECRET = "s3cret"
NOW = 1_800_000_000.0
WEEK = 7 * 24 * 3600


def verify(**overrides: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "secret": SECRET,
        "site_key": "shop",
        "user_id": "u1001",
        "expires": str(int(NOW) + 600),
        "name": "张伟",
        "now": NOW,
        "max_ahead_seconds": WEEK,
    }
    fields.update(overrides)
    if "signature" not in fields:
        fields["signature"] = sign_visitor(
            secret=SECRET,
            site_key=str(fields["site_key"]),
            user_id=str(fields["user_id"]),
            expires=int(str(fields["expires"])),
        )
    return visitor_verify(**fields)  # type: ignore[arg-type]


def test_the_documented_message_format_is_what_is_signed():
    expected = hmac.new(b"s3cret", b"shop|u1001|1800000600", hashlib.sha256).hexdigest()

    assert sign_visitor(secret=SECRET, site_key="shop", user_id="u1001", expires=1800000600) == (
        expected
    )


def test_a_good_signature_gives_a_signed_visitor():
    visitor = verify()

    assert (visitor.address, visitor.name, visitor.is_signed) == ("u1001", "张伟", True)


def test_an_uppercase_hex_signature_is_accepted():
    signature = sign_visitor(
        secret=SECRET, site_key="shop", user_id="u1001", expires=int(NOW) + 600
    )

    assert verify(signature=signature.upper()).address == "u1001"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"signature": "0" * 64}, "bad_signature"),
        ({"signature": "not-hex"}, "bad_signature"),
        ({"signature": ""}, "bad_signature"),
        # Signed for another site with the same secret.
        (
            {
                "signature": sign_visitor(
                    secret=SECRET, site_key="other", user_id="u1001", expires=int(NOW) + 600
                )
            },
            "bad_signature",
        ),
        ({"expires": str(int(NOW) - 1)}, "expired"),
        ({"expires": str(int(NOW) + WEEK + 60)}, "bad_signature"),
        ({"expires": "soon", "signature": "0" * 64}, "bad_signature"),
        ({"user_id": ""}, "bad_user"),
        ({"user_id": "x" * 101}, "bad_user"),
        ({"user_id": " u1001"}, "bad_user"),
        ({"user_id": "visitor:abcdefabcdefabcdef"}, "bad_user"),
    ],
)
def test_unproven_identities_are_refused(overrides, code):  # type: ignore[no-untyped-def]
    with pytest.raises(VisitorRefused) as refused:
        verify(**overrides)

    assert refused.value.code == code


def test_an_expired_but_otherwise_wrong_signature_is_called_wrong_not_expired():
    with pytest.raises(VisitorRefused) as refused:
        verify(expires=str(int(NOW) - 1), signature="0" * 64)

    assert refused.value.code == "bad_signature"


def test_an_anonymous_visitor_is_keyed_by_the_prefixed_visitor_id():
    visitor = visitor_anonymous(visitor_id="a1b2" * 8, name="")

    assert (visitor.address, visitor.is_signed) == ("visitor:" + "a1b2" * 8, False)


@pytest.mark.parametrize("visitor_id", ["", "short", "x" * 65, "has space in it 123", "a/b" * 8])
def test_malformed_visitor_ids_are_refused(visitor_id):  # type: ignore[no-untyped-def]
    with pytest.raises(VisitorRefused):
        visitor_anonymous(visitor_id=visitor_id, name="")


def test_origins_must_match_exactly_scheme_host_and_port():
    allowed = {"https://shop.example", "http://127.0.0.1:8000"}

    assert origin_allowed(origin="https://shop.example", allowed=allowed)
    assert origin_allowed(origin="HTTPS://Shop.Example/", allowed=allowed)
    assert origin_allowed(origin="http://127.0.0.1:8000", allowed=allowed)
    assert not origin_allowed(origin="http://shop.example", allowed=allowed)
    assert not origin_allowed(origin="https://shop.example.evil.test", allowed=allowed)
    assert not origin_allowed(origin="http://127.0.0.1:8001", allowed=allowed)
    assert not origin_allowed(origin="", allowed=allowed)
    assert not origin_allowed(origin="null", allowed=allowed)


def test_the_token_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=0.5, capacity=2, clock=lambda: now[0])

    assert [bucket.take(), bucket.take(), bucket.take()] == [True, True, False]
    assert bucket.wait_seconds() == pytest.approx(2.0)
    now[0] = 1.9
    assert bucket.take() is False
    now[0] = 2.0
    assert bucket.take() is True
    now[0] = 100.0
    assert [bucket.take(), bucket.take(), bucket.take()] == [True, True, False]
