"""The rules of a deadline, without the application: due from its reminder day, missed the day after its date, met
or cancelled once, each transition once whatever fires or arrives again; and its public events."""

from datetime import date

import pytest

from shared.contracts import deadlines
from shared.vocabulary import DeadlineKind, DeadlineState

from services.jury.contracts import to_contract
from services.jury.deadlines.domain import Deadline
from services.jury.deadlines.engine import add_months

DUE = date(2027, 3, 31)


def declaration() -> Deadline:
    return Deadline(kind=DeadlineKind.HOLDER_DECLARATION, subject="UIMM-2026-0001", branch="UIMM",
                    certification="RNCP34174", candidacy_id="c1", session_id="s1", responsible_organisation=None,
                    responsible_role="certifier", cause="e1", opened_on=date(2026, 12, 31), due_on=DUE,
                    remind_on=date(2027, 3, 16))


def kinds(deadline: Deadline) -> list[str]:
    return [type(e).__name__ for e in deadline.collect_events()]


def test_a_deadline_is_due_from_its_reminder_day_and_missed_the_day_after_its_date():
    deadline = declaration()
    assert not deadline.fire(date(2027, 3, 15))
    assert deadline.fire(date(2027, 3, 16)) and deadline.state == DeadlineState.DUE
    assert not deadline.fire(DUE)  # its last day: still due
    assert deadline.fire(date(2027, 4, 1)) and deadline.state == DeadlineState.MISSED
    assert kinds(deadline) == ["Opened", "Due", "Missed"]
    assert deadline.next_firing() is None


def test_a_clock_firing_again_or_late_changes_nothing_twice():
    deadline = declaration()
    assert deadline.fire(date(2027, 5, 1))  # the clock was away: due then missed at once
    assert not deadline.fire(date(2027, 5, 1)) and not deadline.fire(date(2027, 5, 2))
    due, missed = [e for e in deadline.collect_events()][1:]
    assert (type(due).__name__, due.on) == ("Due", date(2027, 3, 16))
    assert (type(missed).__name__, missed.on) == ("Missed", date(2027, 4, 1))


def test_a_deadline_met_before_its_date_is_met_on_time_and_never_missed():
    deadline = declaration()
    assert deadline.meet(date(2027, 1, 10), "e2")
    assert deadline.state == DeadlineState.MET and deadline.next_firing() is None
    assert not deadline.fire(date(2027, 6, 1))
    assert not deadline.meet(date(2027, 1, 11), "e3") and not deadline.cancel(date(2027, 1, 11), "e3", "revoked")
    assert kinds(deadline) == ["Opened", "Met"]


def test_a_deadline_met_after_its_date_is_recorded_missed_first_then_met_late():
    deadline = declaration()
    deadline.meet(date(2027, 4, 20), "e2")  # the clock had not said it was missed yet
    events = list(deadline.collect_events())
    assert [type(e).__name__ for e in events] == ["Opened", "Missed", "Met"]
    assert events[-1].late is True


def test_a_cancelled_deadline_is_never_due_nor_met():
    deadline = declaration()
    assert deadline.cancel(date(2027, 1, 5), "e2", "certificate revoked")
    assert not deadline.fire(date(2027, 6, 1)) and not deadline.meet(date(2027, 1, 6), "e3")
    assert deadline.state == DeadlineState.CANCELLED


def test_the_same_kind_and_subject_is_the_same_deadline():
    assert Deadline.create_id("HOLDER_DECLARATION", "N1") == Deadline.create_id("HOLDER_DECLARATION", "N1")
    assert Deadline.create_id("HOLDER_DECLARATION", "N1") != Deadline.create_id("SESSION_RESULTS", "N1")


def test_each_transition_is_published_with_what_the_deadline_is_about():
    deadline = declaration()
    deadline.fire(date(2027, 4, 2))
    deadline.meet(date(2027, 4, 3), "e9")
    published = [to_contract(e) for e in deadline.collect_events()]
    assert [type(p) for p in published] == [deadlines.DeadlineOpened, deadlines.DeadlineDue,
                                            deadlines.DeadlineMissed, deadlines.DeadlineMet]
    assert {(p.deadline_id, p.kind, p.subject, p.branch, p.responsible_role) for p in published} == {
        (str(deadline.id), DeadlineKind.HOLDER_DECLARATION, "UIMM-2026-0001", "UIMM", "certifier")}
    assert (published[-1].late, published[-1].cause, published[-1].on) == (True, "e9", date(2027, 4, 3))


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 5, 31), 3, date(2026, 8, 31)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 12, 15), 3, date(2027, 3, 15)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
])
def test_a_delay_in_months_ends_on_the_same_day_or_the_months_last(day, months, expected):
    assert add_months(day, months) == expected


def test_the_clock_is_moved_only_where_the_installation_allows_it(monkeypatch, capsys):
    from tools.cli import main

    monkeypatch.delenv("CQP_DEADLINES_CLOCK_ADJUSTABLE", raising=False)
    assert main(["deadlines", "clock", "--advance", "30"]) != 0
    assert "CQP_DEADLINES_CLOCK_ADJUSTABLE" in capsys.readouterr().err
