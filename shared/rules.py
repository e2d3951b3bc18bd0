"""The rules on dates the domains and the gateway both decide on: each one pure predicate, its SQL twin beside it.

The domains and the gateway's types decide with the predicate; the gateway's queries filter with the twin,
so a list filtered in the database agrees with the field each of its items shows. A twin is a condition with
`?` placeholders and its values (as services/gateway/scopes.py returns them, for `Conditions.add`), over SQL
expressions naming the columns and the day; it is TRUE or FALSE, never NULL, so its NOT is the predicate's
`not`. tests/integration/test_rules.py checks that each pair agrees, the day itself and null dates included.
Pure standard library (and the vocabulary), so domain modules may import it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from shared.vocabulary import AccessRoute, Registry

Clause = tuple[str, list]


def expired(end_date: date | None, on: date) -> bool:
    """A registration has expired from the day after its end date; one without an end date never expires."""
    return end_date is not None and end_date < on


def expired_sql(end_date: str = "end_date", on: str = "current_date") -> Clause:
    return f"({end_date} IS NOT NULL AND {end_date} < {on})", []


def vae_route_open(registry: str | None, routes: Collection[str] | None) -> bool:
    """VAE leads to a certification registered in the RNCP whose registration lists the VAE route."""
    return registry == Registry.RNCP and AccessRoute.VAE in (routes or ())


def vae_open(registry: str | None, routes: Collection[str] | None, end_date: date | None, on: date) -> bool:
    """VAE is open on a day: its route is open (`vae_route_open`) and the registration has not expired."""
    return vae_route_open(registry, routes) and not expired(end_date, on)


def vae_open_sql(registry: str = "registry", routes: str = "routes", end_date: str = "end_date",
                 on: str = "current_date") -> Clause:
    not_expired, _ = expired_sql(end_date, on)
    # IS TRUE: a certification with no registration (NULL registry or routes) is not open, and NOT of it is TRUE.
    return (f"(({registry} = ? AND ? = ANY({routes})) IS TRUE AND NOT {not_expired})",
            [Registry.RNCP.value, AccessRoute.VAE.value])


def accreditation_in_force(valid_from: date, valid_until: date | None, withdrawn_on: date | None, on: date) -> bool:
    """An accreditation is in force from its first day through its last (`valid_until`, None: open-ended),
    and no longer from the day it is withdrawn."""
    return (valid_from <= on and (valid_until is None or on <= valid_until)
            and (withdrawn_on is None or on < withdrawn_on))


def accreditation_in_force_sql(valid_from: str = "valid_from", valid_until: str = "valid_until",
                               withdrawn_on: str = "withdrawn_on", on: str = "current_date") -> Clause:
    return (f"({valid_from} <= {on} AND ({valid_until} IS NULL OR {on} <= {valid_until})"
            f" AND ({withdrawn_on} IS NULL OR {on} < {withdrawn_on}))", [])
