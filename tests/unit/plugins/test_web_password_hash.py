"""groundwork.infra.web_password_hash: a hash bcrypt accepts, the same for the same input, refusals in words."""

import bcrypt
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.groundwork.infra.plugins.filter.web_password_hash import web_password_hash


def test_the_hash_checks_the_password_and_no_other():
    hashed = web_password_hash("lab-monitoring", "pg1")
    assert hashed.startswith("$2b$10$")
    assert bcrypt.checkpw(b"lab-monitoring", hashed.encode())
    assert not bcrypt.checkpw(b"lab-monitorinG", hashed.encode())


def test_the_same_input_gives_the_same_hash_and_another_seed_another():
    assert web_password_hash("lab-monitoring", "pg1") == web_password_hash("lab-monitoring", "pg1")
    assert web_password_hash("lab-monitoring", "pg1") != web_password_hash("lab-monitoring", "pg2")


def test_the_cost_is_the_one_asked_for():
    assert web_password_hash("x" * 20, "h", rounds=4).startswith("$2b$04$")


@pytest.mark.parametrize(
    ("password", "rounds", "message"),
    [("", 10, "empty"), ("x" * 73, 10, "72 bytes"), ("secret", 3, "rounds must be 4 to 31")],
)
def test_what_bcrypt_cannot_hash_is_refused_in_words(password, rounds, message):
    with pytest.raises(AnsibleFilterError, match=message):
        web_password_hash(password, "pg1", rounds=rounds)
