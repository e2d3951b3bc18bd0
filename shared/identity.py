"""Who is calling: OpenID Connect access tokens from the identity provider (Keycloak), verified on
every hop, never trusted on their word.

The gateway verifies the caller's token, then forwards it with each command; the service verifies it
again and takes the actor from it. Nothing else names an actor: headers that claim one are ignored.
A token is an RS256 JWT whose signature is checked against the issuer's published keys (JWKS,
discovered from the issuer, cached, fetched again when a token names a key not seen yet), with its
issuer, audience, expiry and not-before. Its claims name the user, their organisation, the branches
they act for and their roles (the realm's mappers put them there: deploy/keycloak/cqp-realm.json).

A signature stays valid until the token expires (15 minutes), so each token is also shown to the
issuer's userinfo endpoint at most every SESSION_CHECK_SECONDS: an account disabled or signed out there
is refused from the next check on (at most half a minute later, a minute when the provider is away).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import anyio
import httpx
import jwt
from pydantic import BaseModel, ConfigDict

from shared.context import Actor
from shared.errors import CommandRefused, Forbidden, Unauthenticated


class Role(enum.StrEnum):
    """The realm roles; a token's other roles (Keycloak's own) mean nothing here."""

    PLATFORM_ADMIN = "platform-admin"
    BRANCH_ADMIN = "branch-admin"
    CERTIFIER = "certifier"
    EVALUATOR = "evaluator"
    TRAINER = "trainer"
    FUNDER = "funder"
    EMPLOYER = "employer"
    JURY_SECRETARY = "jury-secretary"
    JURY_MEMBER = "jury-member"
    CANDIDATE = "candidate"
    AUDITOR = "auditor"


# The organisation of the platform's operators and of the services' own accounts: not a catalog record.
PLATFORM = "platform"
# A candidate acts for no organisation: their actions are recorded under this name.
INDIVIDUAL = "individual"


class Caller(BaseModel):
    """The verified identity behind a request."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    organisation_id: str
    branches: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset()  # values of Role

    def acting_as(self, allowed: frozenset[str], operation: str) -> Actor:
        """The actor recorded on what the caller does: its first role that `allowed` lists (every role of
        the caller when `allowed` is empty), or Forbidden naming the roles that would do."""
        roles = sorted(self.roles & allowed if allowed else self.roles)
        if not roles:
            raise Forbidden(f"none of your roles may {operation}", roles=sorted(self.roles),
                            allowed=sorted(allowed))
        return Actor(user_id=self.user_id, organisation_id=self.organisation_id, role=roles[0])

    @classmethod
    def from_claims(cls, claims: dict) -> Caller:
        roles = frozenset(str(r) for r in claims.get("roles", []) if r in Role._value2member_map_)
        organisation = claims.get("organisation")
        if not organisation:
            if roles != {Role.CANDIDATE}:
                raise Unauthenticated("the token names no organisation; ask your administrator to attach one")
            organisation = INDIVIDUAL
        branches = claims.get("branches") or []
        if not isinstance(organisation, str) or not isinstance(branches, list):
            raise Unauthenticated("the token's organisation or branches claim is malformed")
        user = claims.get("preferred_username") or claims["sub"]
        return cls(user_id=user, organisation_id=organisation, branches=tuple(sorted(set(branches))), roles=roles)


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    return token.strip()


JwksSource = Callable[[], Awaitable[dict]]
# Asks the issuer whether a token's account still holds: returns if so, raises Unauthenticated if not
# (disabled, signed out), IdentityProviderUnavailable when it cannot tell.
SessionCheck = Callable[[str], Awaitable[None]]


def discovered_jwks(issuer: str, http: httpx.AsyncClient) -> JwksSource:
    """The issuer's key set, found through its discovery document."""

    async def fetch() -> dict:
        discovery = (await http.get(f"{issuer}/.well-known/openid-configuration")).raise_for_status().json()
        return (await http.get(discovery["jwks_uri"])).raise_for_status().json()

    return fetch


def userinfo_check(issuer: str, http: httpx.AsyncClient) -> SessionCheck:
    """The OpenID Connect userinfo endpoint as the session check: it answers only while the token's account
    is enabled and its session open (Keycloak refuses a disabled user, a signed-out session, a revoked
    token). It needs no secret of the caller's: the token is the credential. Tokens ask for scope openid."""
    endpoint: list[str] = []

    async def check(token: str) -> None:
        try:
            if not endpoint:
                discovery = (await http.get(f"{issuer}/.well-known/openid-configuration")).raise_for_status().json()
                endpoint.append(discovery["userinfo_endpoint"])
            answer = await http.get(endpoint[0], headers={"authorization": f"Bearer {token}"})
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise IdentityProviderUnavailable("the identity provider could not be asked whether the account holds",
                                              reason=type(error).__name__) from None
        if answer.status_code == 200:
            return
        if answer.status_code in (401, 403):
            # WWW-Authenticate says why (error_description="User disabled", "user_session_not_found", …).
            reason = answer.headers.get("www-authenticate", "")
            if "insufficient_scope" in reason:
                raise Unauthenticated("the bearer token was not asked with scope openid: ask for a new one with it")
            raise Unauthenticated("the account is disabled or signed out at the identity provider")
        raise IdentityProviderUnavailable("the identity provider could not be asked whether the account holds",
                                          reason=f"userinfo answered {answer.status_code}")

    return check


class TokenVerifier:
    """Verifies access tokens of one issuer for one audience."""

    ALGORITHMS = ["RS256"]
    # An unknown key id fetches the key set again, but not more often than this (a flood of forged
    # key ids must not turn into a flood of requests to the provider).
    REFRESH_AT_MOST_EVERY_SECONDS = 10.0

    # Tokens verified already, by their exact text: a client sends the same token with every request, and
    # checking its RS256 signature again was a tenth of a process's CPU per request. A token found here is
    # still refused once expired; the cache forgets the oldest past this size.
    VERIFIED_TOKENS = 4096
    # How long the issuer's word that a token's account holds is trusted (session check), and how long it
    # still is when the issuer cannot be asked: a disabled or signed-out account acts for at most a minute.
    SESSION_CHECK_SECONDS = 30.0
    SESSION_GRACE_SECONDS = 60.0

    def __init__(self, issuer: str, audience: str, jwks: JwksSource, leeway_seconds: int = 30,
                 session_check: SessionCheck | None = None):
        self.issuer = issuer
        self.audience = audience
        self._jwks = jwks
        self._leeway = leeway_seconds
        self._session_check = session_check
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = anyio.Lock()
        self._verified: OrderedDict[str, tuple[Caller, float]] = OrderedDict()  # token → caller, expiry
        self._held_at: dict[str, float] = {}  # token → when the issuer last said its account holds (monotonic)
        self._checking: dict[str, asyncio.Future] = {}  # one session check at a time per token

    async def verify(self, token: str) -> Caller:
        if (known := self._verified.get(token)) is not None:
            caller, expires = known
            if time.time() > expires + self._leeway:
                self._forget(token)
                raise Unauthenticated("the bearer token has expired")
            self._verified.move_to_end(token)
        else:
            caller, expires = await self._verify(token)
            self._verified[token] = (caller, expires)
            if len(self._verified) > self.VERIFIED_TOKENS:
                self._forget(next(iter(self._verified)))
        await self._session_holds(token)
        return caller

    def _forget(self, token: str) -> None:
        self._verified.pop(token, None)
        self._held_at.pop(token, None)

    async def _session_holds(self, token: str) -> None:
        """The issuer says the token's account is still enabled and signed in (asked again past
        SESSION_CHECK_SECONDS; requests arriving meanwhile with the same token share one asking)."""
        if self._session_check is None:
            return
        held_at = self._held_at.get(token, float("-inf"))
        if time.monotonic() - held_at < self.SESSION_CHECK_SECONDS:
            return
        if token not in self._checking:
            self._checking[token] = asyncio.ensure_future(self._session_check(token))
        checking = self._checking[token]
        try:
            await asyncio.shield(checking)
        except Unauthenticated:
            self._forget(token)
            raise
        except IdentityProviderUnavailable:
            if time.monotonic() - held_at < self.SESSION_GRACE_SECONDS:
                return  # the issuer is away: its last word holds a little longer
            raise
        finally:
            if self._checking.get(token) is checking and checking.done():
                del self._checking[token]
        if token in self._verified:
            self._held_at[token] = time.monotonic()

    async def _verify(self, token: str) -> tuple[Caller, float]:
        try:
            header = jwt.get_unverified_header(token)
            # Read unverified only to say clearly why a token of another issuer is refused.
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a JWT") from None
        if issuer != self.issuer:
            raise Unauthenticated("the bearer token comes from another issuer")
        if header.get("alg") not in self.ALGORITHMS:
            raise Unauthenticated("the bearer token is not signed with RS256")
        key = await self._key(header.get("kid", ""))
        try:
            claims = jwt.decode(
                token, key, algorithms=self.ALGORITHMS, audience=self.audience, issuer=self.issuer,
                leeway=self._leeway, options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("the bearer token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(f"the bearer token is not meant for {self.audience}") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the bearer token comes from another issuer") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the bearer token is not valid ({type(error).__name__})") from None
        if claims.get("typ", "Bearer") != "Bearer":
            raise Unauthenticated("the token is not an access token")
        return Caller.from_claims(claims), float(claims["exp"])

    async def _key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            async with self._lock:
                if kid not in self._keys and time.monotonic() - self._fetched_at > self.REFRESH_AT_MOST_EVERY_SECONDS:
                    await self._refresh()
        if kid not in self._keys:
            raise Unauthenticated("the bearer token is signed by a key the issuer does not publish")
        return self._keys[kid]

    async def _refresh(self) -> None:
        try:
            published = await self._jwks()
            signing = [k for k in published["keys"] if k.get("use", "sig") == "sig" and k.get("alg", "RS256") == "RS256"]
            key_set = jwt.PyJWKSet.from_dict({"keys": signing})
        except (httpx.HTTPError, jwt.PyJWTError, KeyError, ValueError) as error:
            # The provider is down: refuse for now (401 would blame the token), retry on the next request.
            raise IdentityProviderUnavailable("the identity provider's keys could not be read",
                                              reason=type(error).__name__) from None
        self._fetched_at = time.monotonic()
        self._keys = {k.key_id: k for k in key_set.keys if k.key_id}


class IdentityProviderUnavailable(CommandRefused):
    status = 503


async def password_token(issuer: str, client_id: str, username: str, password: str, http: httpx.AsyncClient) -> str:
    """A person's access token by the password grant: development and tests only (the cqp-cli client)."""
    return await _token(issuer, http, grant_type="password", client_id=client_id, username=username,
                        password=password, scope="openid")


async def client_token(issuer: str, client_id: str, client_secret: str, http: httpx.AsyncClient) -> str:
    """A process's own access token by the client-credentials grant."""
    return await _token(issuer, http, grant_type="client_credentials", client_id=client_id,
                        client_secret=client_secret, scope="openid")  # openid: its account can be checked


class TokenRefused(RuntimeError):
    pass


async def _token(issuer: str, http: httpx.AsyncClient, **form: str) -> str:
    answer = await http.post(f"{issuer}/protocol/openid-connect/token", data=form)
    if answer.status_code != 200:
        try:
            reason = answer.json().get("error_description") or answer.json().get("error")
        except ValueError:
            reason = answer.text[:200]
        raise TokenRefused(f"the identity provider refused the token request: {reason}")
    return answer.json()["access_token"]


class CachedToken:
    """An access token fetched again a minute before it expires: for long runs (imports, tests)."""

    def __init__(self, fetch: Callable[[], Awaitable[str]]):
        self._fetch = fetch
        self._token = ""
        self._expires = 0.0

    async def __call__(self) -> str:
        if time.time() > self._expires - 60:
            self._token = await self._fetch()
            self._expires = jwt.decode(self._token, options={"verify_signature": False}).get("exp", 0)
        return self._token
