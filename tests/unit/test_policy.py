"""The role table: every operation declared once with who may do it, and each scope checked on the
record a command changes."""

import uuid
from datetime import date

import pytest

from shared.documents import KINDS

from services.candidacy import api as candidacy_api
from services.candidacy.application import CandidacyApplication
from services.candidacy.domain import RegistrationFacts, StepFacts, UnknownCandidacy
from services.catalog import api as catalog_api
from services.catalog.application import CatalogApplication
from services.gateway.schema import schema
from services.jury import api as jury_api
from services.jury.application import JuryApplication
from shared.context import Actor, CommandContext, current_caller
from shared.errors import Forbidden
from shared.eventstore import CommandRecord
from shared.identity import Caller, Role
from shared.policy import ANYONE, Record, Scope, authorize, operation, operations, reaches
from services.gateway.lists import LISTS
from tests.unit.as_client import AsClient

SERVICES = {"catalog": (catalog_api, CatalogApplication), "candidacy": (candidacy_api, CandidacyApplication),
            "jury": (jury_api, JuryApplication)}


def caller(roles, organisation="ORG", branches=(), user="someone"):
    return Caller(user_id=user, organisation_id=organisation, branches=tuple(branches), roles=frozenset(roles))


@pytest.mark.parametrize("service", SERVICES)
def test_every_command_of_a_service_is_in_the_role_table_under_that_service(service):
    api, application = SERVICES[service]
    declared = {name for name, op in operations().items() if op.service == service}
    assert set(api.commands(application(), None)) | DOCUMENT_READS[service] | INTERNAL[service] == declared


# The service's commands with no endpoint that have a row (the attach row of a kind it makes itself).
INTERNAL = {"catalog": set(), "candidacy": set(), "jury": {"issue-certificate-document"}}
# The rows that read a service's documents: not commands, but its own (it serves the bytes).
DOCUMENT_READS = {service: {rule.read for rule in KINDS.values() if operations()[rule.attach].service == service}
                  for service in ("catalog", "candidacy", "jury")}


def test_every_query_subscription_and_export_of_the_gateway_is_in_the_role_table():
    declared = {name for name, op in operations().items() if op.service == "gateway"}
    queries = {field.name for root in ("Query", "Subscription")
               for field in schema.schema_converter.type_map[root].definition.fields}
    exports = {"exportRoster", "exportDecisions", "exportHolders", "exportDashboard"} | {
        e.operation for e in LISTS.values()}
    histories = set(HISTORIES.values())  # `history` reads each kind of aggregate under its own row
    names = {schema.config.name_converter.apply_naming_config(q) for q in queries} - {"history"}
    assert names | exports | histories == declared


HISTORIES = {"candidacy": "candidacyHistory", "candidate": "candidateHistory", "jurySession": "jurySessionHistory",
             "certification": "certificationHistory", "organisation": "organisationHistory"}


@pytest.mark.parametrize("read", ["candidacy", "candidate", "jurySession"])
def test_who_may_read_an_aggregates_history_is_who_may_read_the_aggregate(read):
    assert operations()[HISTORIES[read]].scopes == operations()[read].scopes


SUBSCRIPTIONS = {"candidacyChanged": "candidacy", "candidacyCounters": "candidacies",
                 "dashboardChanged": "dashboard", "deadlinesDue": "deadlines"}


@pytest.mark.parametrize("subscription", SUBSCRIPTIONS)
def test_a_subscription_is_scoped_exactly_as_the_query_whose_answer_it_pushes(subscription):
    assert operations()[subscription].scopes == operations()[SUBSCRIPTIONS[subscription]].scopes


def test_an_auditor_reads_the_history_and_trail_of_its_branches_and_writes_nothing():
    for name, op in operations().items():
        if "auditor" in op.scopes:
            reads = op.service == "gateway" or name in {rule.read for rule in KINDS.values()}
            assert reads and op.scopes["auditor"] == (Scope.OWN_BRANCHES,), name
    assert all(op.scopes.get("auditor") for name, op in operations().items() if name in HISTORIES.values())


@pytest.mark.parametrize("name", LISTS)
def test_a_list_exported_as_csv_is_scoped_exactly_as_the_graphql_list(name):
    export = LISTS[name]
    assert operation(export.operation).scopes == operation(export.listing.name).scopes


def test_the_csv_export_of_a_dashboard_is_scoped_exactly_as_the_dashboard():
    assert operation("exportDashboard").scopes == operation("dashboard").scopes


def test_every_role_of_the_table_is_a_realm_role_and_every_operation_names_one():
    for op in operations().values():
        assert op.scopes, op.name
        assert all(role == ANYONE or role in {r.value for r in Role} for role in op.scopes)


@pytest.mark.parametrize("scope, record, reached", [
    (Scope.OWN_BRANCHES, Record(branches=frozenset({"UIMM", "LEEM"})), True),
    (Scope.OWN_BRANCHES, Record(branches=frozenset({"LEEM"})), False),
    (Scope.EVALUATED, Record(evaluator="ORG"), True),
    (Scope.EVALUATED, Record(evaluator="OTHER"), False),
    (Scope.TRAINED, Record(trainer="ORG"), True),
    (Scope.FUNDED, Record(funders=frozenset({"X", "ORG"})), True),
    (Scope.FUNDED, Record(funders=frozenset()), False),
    (Scope.EMPLOYED, Record(employer="OTHER"), False),
    (Scope.OWN_RECORD, Record(account="someone"), True),
    (Scope.OWN_RECORD, Record(account=None), False),
    (Scope.SESSIONS, Record(presented_to_branches=frozenset({"UIMM"})), True),
    (Scope.OWN_ORGANISATION, Record(organisation="ORG"), True),
    (Scope.OWN_ORGANISATION, Record(organisation="OTHER"), False),
    (Scope.ALL, Record(), True),
])
def test_a_scope_reaches_the_records_it_names_and_no_other(scope, record, reached):
    assert reaches(caller(["branch-admin"], branches=["UIMM"]), scope, record) is reached


def test_a_refusal_names_the_rights_the_caller_has_and_that_fall_short():
    with pytest.raises(Forbidden) as refusal:
        authorize("publish-version", Record(branches=frozenset({"LEEM"})), caller(["branch-admin"], branches=["UIMM"]))
    assert refusal.value.details == {"operation": "publish-version", "missing": ["branch-admin: own-branches"]}


def test_a_record_the_caller_may_not_even_read_is_refused_as_an_unknown_id_would_be():
    """NotFound versus Forbidden would tell whether an id exists: Forbidden only for a record the caller reads."""
    unknown = UnknownCandidacy("no such candidacy")
    record = Record(branches=frozenset({"LEEM"}), evaluator="CENTRE", read="candidacy", unknown=unknown)
    with pytest.raises(UnknownCandidacy) as hidden:
        authorize("withdraw", record, caller(["evaluator"], organisation="ELSEWHERE"))
    assert hidden.value is unknown and hidden.value.details == {}
    with pytest.raises(Forbidden):  # a certifier of LEEM reads the candidacy, but may not withdraw it
        authorize("withdraw", record, caller(["certifier", "evaluator"], organisation="ELSEWHERE", branches=["LEEM"]))


def test_without_a_caller_nothing_is_allowed():
    token = current_caller.set(None)
    try:
        with pytest.raises(Forbidden):
            authorize("create-branch", Record())
    finally:
        current_caller.reset(token)


def context(user: str = "u", organisation: str = "UIMM") -> CommandContext:
    return CommandContext.new(Actor(user_id=user, organisation_id=organisation, role="branch-admin"),
                              f"k-{uuid.uuid4()}")


def registering() -> CommandContext:
    """The context of the test caller's own organisation (tests/unit/conftest.py), which registers the person."""
    return context(organisation=current_caller.get().organisation_id)


def test_a_branch_admin_changes_only_the_certifications_of_its_branches_and_a_refusal_writes_nothing():
    app = AsClient(CatalogApplication())
    for code in ("UIMM", "LEEM"):
        app.create_branch({"code": code, "name": code, "idcc": [], "cpne": ""}, context())
    block = [{"code": "RS1BC01", "title": "Bloc", "competences": None, "modalities": None}]
    app.create_certification({"code": "RS1", "kind": "CQP", "title": "T", "owners": ["LEEM"], "blocks": block,
                              "settings": {}, "effective_from": date(2024, 1, 1)}, context())
    written = app.recorder.max_notification_id()
    current_caller.set(caller(["branch-admin"], organisation="UIMM", branches=["UIMM"]))
    for attempt in (
        lambda: app.publish_version({"code": "RS1", "blocks": block, "settings": {}, "effective_from": None}, context()),
        lambda: app.change_owners({"code": "RS1", "owners": ["UIMM"]}, context()),
        lambda: app.create_certification({"code": "RS2", "kind": "CQP", "title": "T", "owners": ["LEEM"], "blocks": [],
                                          "settings": {}, "effective_from": None}, context()),
    ):
        with pytest.raises(Forbidden):
            attempt()
    assert app.recorder.max_notification_id() == written


def test_an_evaluation_centre_acts_only_on_the_candidacies_it_evaluates():
    from tests.unit.test_candidacy import OWNERS, facts, opened, opening

    app = AsClient(CandidacyApplication())
    person = app.register_candidate({"given_name": "A", "family_name": "B", "birth_date": None, "email": "a@b.org",
                                     "phone": None, "status": "EMPLOYEE", "employer_id": None},
                                    RegistrationFacts(uuid.uuid4(), "pd1.x"), registering()).result["id"]
    candidacy = opened(app, opening(person, route="TRAINING"), facts(), registering()).result["id"]
    evaluator = app.candidacy(candidacy).evaluator_id
    current_caller.set(caller(["evaluator"], organisation="ANOTHER-CENTRE"))
    with pytest.raises(UnknownCandidacy):  # not even readable by it: as if there were no such candidacy
        app.withdraw({"candidacy_id": candidacy, "reason": "r"}, StepFacts(OWNERS, date.today()), context())
    current_caller.set(caller(["evaluator"], organisation=evaluator))
    app.withdraw({"candidacy_id": candidacy, "reason": "r"}, StepFacts(OWNERS, date.today()), context())
    assert app.candidacy(candidacy).status == "WITHDRAWN"


def test_the_role_recorded_is_the_one_that_reached_the_record_not_the_first_the_caller_holds():
    """A centre's user who is also a branch admin elsewhere withdraws a candidacy it evaluates: the event
    says "evaluator" (branch-admin, first in order, reaches nothing of this candidacy)."""
    from tests.unit.test_candidacy import OWNERS, facts, opened, opening

    app = AsClient(CandidacyApplication())
    person = app.register_candidate({"given_name": "A", "family_name": "B", "email": "a@b.org", "status": "EMPLOYEE"},
                                    RegistrationFacts(uuid.uuid4(), "pd1.x"), registering()).result["id"]
    candidacy = opened(app, opening(person, route="TRAINING"), facts(), registering()).result["id"]
    evaluator = app.candidacy(candidacy).evaluator_id
    current_caller.set(caller(["branch-admin", "evaluator"], organisation=evaluator, branches=["LEEM"]))
    acted = CommandContext.new(Actor(user_id="u", organisation_id=evaluator, role="branch-admin"), "k-role")
    app.withdraw({"candidacy_id": candidacy, "reason": "r"}, StepFacts(OWNERS, date.today()), acted)
    withdrawn = list(app.events.get(uuid.UUID(candidacy)))[-1]
    assert withdrawn.context["actor"]["role"] == "evaluator"
    record = app.repository.get(CommandRecord.create_id("candidacy", acted.causation_id, acted.as_event_data()))
    assert record.context["actor"]["role"] == "evaluator"


def test_a_candidate_acts_only_on_their_own_record():
    from tests.unit.test_candidacy import OWNERS, facts, opened, opening

    app = AsClient(CandidacyApplication())
    person = app.register_candidate({"given_name": "A", "family_name": "B", "birth_date": None, "email": "a@b.org",
                                     "phone": None, "status": "EMPLOYEE", "employer_id": None, "account": "ana"},
                                    RegistrationFacts(uuid.uuid4(), "pd1.x"), registering()).result["id"]
    candidacy = opened(app, opening(person, route="TRAINING"), facts(), registering()).result["id"]
    current_caller.set(caller(["candidate"], user="bob"))
    with pytest.raises(UnknownCandidacy):
        app.withdraw({"candidacy_id": candidacy, "reason": "r"}, StepFacts(OWNERS, date.today()), context())
    current_caller.set(caller(["candidate"], user="ana"))
    with pytest.raises(UnknownCandidacy):  # the login named at registration reaches nothing before ana confirms it
        app.withdraw({"candidacy_id": candidacy, "reason": "r"}, StepFacts(OWNERS, date.today()), context())
    app.confirm_account({"candidate_id": person}, context(user="ana"))
    app.withdraw({"candidacy_id": candidacy, "reason": "r"}, StepFacts(OWNERS, date.today()), context())
