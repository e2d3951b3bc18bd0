"""People's names, contact and civil data, asked of the candidacy service, which alone holds them (each
sealed with the person's own key: shared/personal.py), and jury members' names, asked of the jury
service in the same way. The gateway keeps none of it in its read models.

The gateway first selects the records in the caller's scope (SQL, as for every read), then asks the
candidacy service for the people on them with the caller's own token: the candidacy service checks the
role table again on each person and answers only those the caller reaches (an erased person reads as
`[erased]`). Searching by name goes to its blind index the same way. Certificate verification is
public: the holder's name of a certificate number, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import httpx

from shared.errors import CommandRefused
from shared.personal import ERASED

WITHHELD = "[withheld]"  # a person the candidacy service does not show this caller


class PeopleUnavailable(CommandRefused):
    status = 503


@dataclass(frozen=True)
class Person:
    given_name: str
    family_name: str
    email: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    holder: dict | None = None  # civil registry data (HolderIdentity), for the declaration of holders
    erased: bool = False

    @property
    def name(self) -> str:
        return ERASED if self.erased else f"{self.given_name} {self.family_name}"

    @classmethod
    def from_json(cls, data: dict) -> Person:
        birth = data.get("birth_date")
        return cls(given_name=data["given_name"], family_name=data["family_name"], email=data.get("email"),
                   phone=data.get("phone"), birth_date=date.fromisoformat(birth) if birth else None,
                   holder=data.get("holder"), erased=bool(data.get("erased")))


NOBODY = Person(WITHHELD, WITHHELD)


class PeopleClient:
    def __init__(self, http: httpx.AsyncClient, candidacy_url: str, jury_url: str = ""):
        self.http = http
        self.url = candidacy_url
        self.jury_url = jury_url  # the jury service keeps its members' names the same way

    async def _ask(self, name: str, body: dict, token: str | None, url: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        try:
            answer = await self.http.post(f"{url or self.url}/queries/{name}", json=body, headers=headers)
        except httpx.TransportError as error:
            raise PeopleUnavailable("the service that keeps people's names did not answer",
                                    reason=type(error).__name__) from None
        if answer.status_code != 200:
            error = (answer.json() if answer.headers.get("content-type", "").startswith("application/json")
                     else {}).get("error") or {}
            raise PeopleUnavailable(error.get("message") or f"the candidacy service answered {answer.status_code}",
                                    reason=error.get("type"))
        return answer.json()

    async def reveal(self, ids: list[str], token: str) -> dict[str, Person]:
        """The people among `ids` the caller may read (others are left out)."""
        ids = sorted({str(i) for i in ids})
        found: dict[str, Person] = {}
        for start in range(0, len(ids), 500):
            people = (await self._ask("reveal", {"ids": ids[start:start + 500]}, token))["people"]
            found.update({i: Person.from_json(p) for i, p in people.items()})
        return found

    async def search(self, text: str, token: str) -> list[str]:
        """The ids of the people having every word of the text (their scope is the caller's SQL's business)."""
        return (await self._ask("search", {"text": text}, token))["ids"]

    async def members(self, sessions: list[str], token: str) -> dict[str, dict[str, str]]:
        """Each jury session the caller may read → its members' names (from the jury service)."""
        return (await self._ask("members", {"sessions": sessions}, token, self.jury_url))["sessions"]

    async def evaluations(self, candidacies: list[str], token: str) -> dict[str, dict[str, dict[str, str]]]:
        """Each candidacy the caller may read → its evaluations' evaluator and evidence by event id (from the
        jury service, which seals them with a key of the candidate's)."""
        return (await self._ask("evaluations", {"candidacies": candidacies}, token, self.jury_url))["candidacies"]

    async def holders(self, numbers: list[str]) -> dict[str, str]:
        """The holder's name of each certificate number (public, as the verification is)."""
        return (await self._ask("holders", {"numbers": numbers}, None))["holders"]
