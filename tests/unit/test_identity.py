"""Access tokens are verified, never trusted: signature, issuer, audience, expiry, claims."""

import time

import pytest

from shared.errors import Forbidden, Unauthenticated
from shared.identity import INDIVIDUAL, Caller, IdentityProviderUnavailable, TokenVerifier
from tests.tokens import LocalIssuer


@pytest.fixture
def issuer():
    return LocalIssuer()


async def test_a_token_of_the_issuer_names_the_caller(issuer):
    caller = await issuer.verifier().verify(issuer.token(user="ana", organisation="UIMM", roles=["branch-admin"],
                                                         branches=["UIMM"]))
    assert caller == Caller(user_id="ana", organisation_id="UIMM", branches=("UIMM",),
                            roles=frozenset({"branch-admin"}))


async def test_a_token_signed_with_another_key_is_refused(issuer):
    forger = LocalIssuer(kid=issuer.kid)
    with pytest.raises(Unauthenticated, match="not valid"):
        await issuer.verifier().verify(forger.token())


async def test_a_token_naming_an_unpublished_key_is_refused_and_fetches_the_keys_at_most_once_a_while(issuer):
    verifier = issuer.verifier()
    await verifier.verify(issuer.token())
    forger = LocalIssuer()
    for _ in range(5):
        with pytest.raises(Unauthenticated, match="key the issuer does not publish"):
            await verifier.verify(forger.token())
    assert issuer.jwks_fetches == 1


async def test_an_expired_token_is_refused(issuer):
    with pytest.raises(Unauthenticated, match="expired"):
        await issuer.verifier().verify(issuer.token(ttl=-5))


async def test_a_token_not_valid_yet_is_refused(issuer):
    with pytest.raises(Unauthenticated, match="not valid yet"):
        await issuer.verifier().verify(issuer.token(nbf=int(time.time()) + 600))


async def test_a_token_for_another_audience_is_refused(issuer):
    with pytest.raises(Unauthenticated, match="not meant for"):
        await issuer.verifier().verify(issuer.token(aud="another-api"))


async def test_a_token_of_another_issuer_is_refused(issuer):
    other = LocalIssuer(issuer="http://127.0.0.1:1/realms/other", kid=issuer.kid)
    other.key = issuer.key  # even signed with the right key
    with pytest.raises(Unauthenticated, match="another issuer"):
        await issuer.verifier().verify(other.token())


async def test_an_unsigned_token_is_refused(issuer):
    import jwt

    token = jwt.encode({"iss": issuer.issuer, "aud": "cqp-gateway", "sub": "x", "exp": time.time() + 60,
                        "iat": time.time()}, None, algorithm="none")
    with pytest.raises(Unauthenticated, match="RS256"):
        await issuer.verifier().verify(token)


async def test_garbage_is_refused(issuer):
    with pytest.raises(Unauthenticated, match="not a JWT"):
        await issuer.verifier().verify("not-a-token")


async def test_a_token_without_organisation_is_refused_unless_its_holder_is_only_a_candidate(issuer):
    with pytest.raises(Unauthenticated, match="no organisation"):
        await issuer.verifier().verify(issuer.token(organisation=None, roles=["evaluator"]))
    candidate = await issuer.verifier().verify(issuer.token(organisation=None, roles=["candidate"], branches=[]))
    assert candidate.organisation_id == INDIVIDUAL


async def test_roles_the_platform_does_not_know_are_ignored(issuer):
    caller = await issuer.verifier().verify(issuer.token(roles=["evaluator", "offline_access", "admin"]))
    assert caller.roles == {"evaluator"}


def test_a_caller_acts_in_a_role_the_operation_allows():
    caller = Caller(user_id="u", organisation_id="O", roles=frozenset({"trainer", "evaluator"}))
    assert caller.acting_as(frozenset({"evaluator", "branch-admin"}), "position").role == "evaluator"
    with pytest.raises(Forbidden) as refusal:
        caller.acting_as(frozenset({"funder"}), "decide-funding")
    assert refusal.value.details["allowed"] == ["funder"]


async def test_a_token_verified_once_is_refused_once_it_expires_though_it_is_remembered(issuer, monkeypatch):
    verifier = issuer.verifier()
    token = issuer.token(ttl=60)
    assert (await verifier.verify(token)).user_id == "tester"
    later = time.time() + 60 + verifier._leeway + 1
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier.verify(token)


async def test_a_remembered_token_with_one_character_changed_is_verified_afresh_and_refused(issuer):
    verifier = issuer.verifier()
    token = issuer.token()
    await verifier.verify(token)
    header, claims, signature = token.split(".")
    tampered = ".".join([header, claims, ("A" if signature[5] != "A" else "B").join([signature[:5], signature[6:]])])
    with pytest.raises(Unauthenticated):
        await verifier.verify(tampered)
    assert (await verifier.verify(token)).user_id == "tester"


class Sessions:
    """The issuer's word on accounts (userinfo), as a test sets it: which tokens it still honours."""

    def __init__(self):
        self.closed: set[str] = set()
        self.away = False
        self.asked = 0

    async def __call__(self, token: str) -> None:
        self.asked += 1
        if self.away:
            raise IdentityProviderUnavailable("away")
        if token in self.closed:
            raise Unauthenticated("the account is disabled or signed out at the identity provider")


def checked_verifier(issuer: LocalIssuer, sessions: Sessions) -> TokenVerifier:
    async def fetch() -> dict:
        return issuer.jwks()
    return TokenVerifier(issuer.issuer, "cqp-gateway", fetch, leeway_seconds=0, session_check=sessions)


async def test_a_token_whose_account_was_disabled_is_refused_at_the_next_session_check(issuer):
    sessions = Sessions()
    verifier = checked_verifier(issuer, sessions)
    token = issuer.token()
    for _ in range(3):
        await verifier.verify(token)
    assert sessions.asked == 1  # asked once per SESSION_CHECK_SECONDS, not per request
    sessions.closed.add(token)
    await verifier.verify(token)  # the issuer's last word holds until the next check
    verifier._held_at[token] -= verifier.SESSION_CHECK_SECONDS
    with pytest.raises(Unauthenticated, match="disabled or signed out"):
        await verifier.verify(token)
    with pytest.raises(Unauthenticated, match="disabled or signed out"):
        await verifier.verify(token)


async def test_an_issuer_away_keeps_its_last_word_for_a_minute_then_refuses(issuer):
    sessions = Sessions()
    verifier = checked_verifier(issuer, sessions)
    token = issuer.token()
    await verifier.verify(token)
    sessions.away = True
    verifier._held_at[token] -= verifier.SESSION_CHECK_SECONDS
    await verifier.verify(token)  # checked half a minute ago: still honoured
    verifier._held_at[token] -= verifier.SESSION_GRACE_SECONDS
    with pytest.raises(IdentityProviderUnavailable):
        await verifier.verify(token)
    with pytest.raises(IdentityProviderUnavailable):  # a token never checked is not honoured
        await verifier.verify(issuer.token(user="other"))
