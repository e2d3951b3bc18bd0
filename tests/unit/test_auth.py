import pytest

from shared.auth import issue_token, verify_token
from shared.context import Actor
from shared.errors import Unauthenticated

ACTOR = Actor(user_id="u1", organisation_id="UIMM", role="branch-admin")


def test_a_token_names_its_actor():
    assert verify_token("k", issue_token("k", ACTOR)) == ACTOR


def test_a_token_signed_with_another_key_is_refused():
    with pytest.raises(Unauthenticated, match="not valid"):
        verify_token("k", issue_token("other", ACTOR))


def test_a_tampered_token_is_refused():
    body, _, signature = issue_token("k", ACTOR).partition(".")
    with pytest.raises(Unauthenticated):
        verify_token("k", body[:-2] + "xx." + signature)


def test_an_expired_token_is_refused():
    with pytest.raises(Unauthenticated, match="expired"):
        verify_token("k", issue_token("k", ACTOR, ttl_seconds=-1))
