import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type

from quizapp.auth import AccountError, check_new_password, hash_password, needs_rehash, verify_password

pytestmark = pytest.mark.real_argon2


def test_hash_is_argon2id_and_salted():
    """Hashes are Argon2id with a fresh salt each time, and hold no trace of the password."""
    a, b = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert a.startswith("$argon2id$") and b.startswith("$argon2id$")
    assert a != b
    assert "correct horse" not in a


def test_verify_accepts_only_the_right_password():
    h = hash_password("correct horse battery")
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "correct horse batterY")
    assert not verify_password(h, "")
    assert not verify_password("not a hash", "correct horse battery")


def test_weaker_hash_is_flagged_for_rehash():
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID).hash(
        "correct horse battery"
    )
    assert verify_password(weak, "correct horse battery")
    assert needs_rehash(weak)
    assert not needs_rehash(hash_password("correct horse battery"))


@pytest.mark.parametrize(
    ("password", "username", "fragment"),
    [
        ("short", None, "at least 10"),
        ("x" * 1025, None, "at most 1024"),
        ("Alice12345", "alice12345", "not be the username"),
    ],
)
def test_password_rules(password, username, fragment):
    with pytest.raises(AccountError, match=fragment):
        check_new_password(password, username=username)


def test_good_password_passes():
    check_new_password("ten chars!", username="alice")
    check_new_password("x" * 1024)
