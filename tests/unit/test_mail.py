"""Mail's pure parts: templates, the calendar invitation, the key's Message-ID, the retry schedule."""

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import aiosmtplib
import icalendar
import pytest

from shared.errors import InvalidInput
from shared.mail import (Key, backoff, compose, convocation_ics, date_fr, domain_of, message_id, permanent,
                         render)
from shared.migrations import check_numbering
from shared import mail

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 5, 12, 9, 0, tzinfo=PARIS)


def convocation_context(**changes) -> dict:
    return {"name": "Zoé Martin", "certification": "CQPM Opérateur régleur", "role": "candidat(e)",
            "starts_at": START, "location": "UIMM Lyon, salle 2", "organizer_name": "Jury UIMM",
            "organizer_email": "jury@uimm.example", "organisation_name": "UIMM", **changes}


def invitation(**changes):
    return convocation_ics(**{"session": "session-1", "recipient": "person-1", "starts_at": START,
                              "ends_at": START + timedelta(hours=3), "location": "UIMM Lyon, salle 2",
                              "summary": "Jury CQPM Opérateur régleur", "organizer_email": "jury@uimm.example",
                              "organizer_name": "Jury UIMM", **changes})


def test_a_convocation_is_rendered_in_french_with_its_subject_from_the_template():
    rendered = render("convocation", convocation_context())
    assert rendered.subject == "Convocation au jury « CQPM Opérateur régleur » du mardi 12 mai 2026 à 09 h 00"
    assert rendered.text.startswith("Bonjour Zoé Martin,\n")
    assert "Lieu : UIMM Lyon, salle 2" in rendered.text
    assert "{%" not in rendered.text and "Convocation au jury «" not in rendered.text  # the subject stays out
    assert '<html lang="fr">' in rendered.html


def test_the_html_escapes_what_people_typed_and_the_text_keeps_it_as_typed():
    rendered = render("convocation", convocation_context(name='<script>alert("x")</script>', location="A & B"))
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "A &amp; B" in rendered.html
    assert '<script>alert("x")</script>' in rendered.text


def test_a_missing_value_is_an_error_not_an_empty_line():
    context = convocation_context()
    del context["location"]
    with pytest.raises(InvalidInput, match="lacks a value"):
        render("convocation", context)


def test_an_unknown_template_is_an_error():
    with pytest.raises(InvalidInput, match="unknown mail template"):
        render("nope", {})


def test_results_are_rendered_too():
    rendered = render("resultats", {"name": "Zoé", "certification": "CQPM X", "decided_on": START.date(),
                                    "decision": "certifié(e)", "organisation_name": "UIMM"})
    assert rendered.subject == "Vos résultats : « CQPM X »"
    assert "jury du mardi 12 mai 2026 pour" in rendered.text


def test_dates_are_written_the_french_way():
    assert date_fr(datetime(2026, 8, 1, 14, 5)) == "samedi 1 août 2026 à 14 h 05"
    assert date_fr(datetime(2026, 2, 3).date()) == "mardi 3 février 2026"


def test_the_invitation_parses_back_as_one_event_with_its_time_place_and_organizer():
    attachment = invitation(attendee_email="zoe@example.org")
    assert (attachment.maintype, attachment.subtype, attachment.params) == ("text", "calendar", {"method": "REQUEST"})
    calendar = icalendar.Calendar.from_ical(attachment.content)
    assert str(calendar["method"]) == "REQUEST" and str(calendar["version"]) == "2.0"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == START and event.decoded("dtend") == START + timedelta(hours=3)
    assert b"DTSTART:20260512T070000Z" in attachment.content  # UTC: no TZID without its VTIMEZONE
    assert str(event["location"]) == "UIMM Lyon, salle 2"
    assert str(event["summary"]) == "Jury CQPM Opérateur régleur"
    assert str(event["organizer"]) == "mailto:jury@uimm.example" and event["organizer"].params["CN"] == "Jury UIMM"
    assert str(event["attendee"]) == "mailto:zoe@example.org"
    assert event.decoded("dtstamp").tzinfo is not None


def test_the_invitation_s_uid_is_the_same_for_a_session_and_a_recipient_and_differs_otherwise():
    uid = lambda **c: str(icalendar.Calendar.from_ical(invitation(**c).content).walk("VEVENT")[0]["uid"])  # noqa: E731
    assert uid() == uid(location="ailleurs", starts_at=START + timedelta(days=1), ends_at=START + timedelta(days=2))
    assert uid() != uid(recipient="person-2")
    assert uid() != uid(session="session-2")


def test_an_invitation_needs_time_zones_and_an_end_after_its_start():
    with pytest.raises(InvalidInput, match="time zone"):
        invitation(starts_at=datetime(2026, 5, 12, 9), ends_at=datetime(2026, 5, 12, 12))
    with pytest.raises(InvalidInput, match="ends after"):
        invitation(ends_at=START)


def test_a_key_s_message_id_is_derived_from_the_key_alone():
    key = Key("event-1", "person-1", "convocation")
    assert message_id(key, "cqp.example") == message_id(Key("event-1", "person-1", "convocation"), "cqp.example")
    assert message_id(key, "cqp.example").startswith("<") and message_id(key, "cqp.example").endswith("@cqp.example>")
    others = {message_id(Key("event-2", "person-1", "convocation"), "d"), message_id(Key("event-1", "person-2",
              "convocation"), "d"), message_id(Key("event-1", "person-1", "resultats"), "d"), message_id(key, "d")}
    assert len(others) == 4
    # The parts are separated: moving a character from one part to the next is another key.
    assert message_id(Key("ab", "c", "t"), "d") != message_id(Key("a", "bc", "t"), "d")
    assert "person-1" not in message_id(key, "d")


def test_a_key_reads_back_from_its_text_and_a_malformed_one_is_an_error():
    key = Key("event-1", "person-1", "convocation")
    assert Key.parse(str(key)) == key
    with pytest.raises(InvalidInput):
        Key.parse("event-1/person-1")


def test_the_message_carries_its_key_s_id_text_html_and_calendar_part():
    key = Key("event-1", "person-1", "convocation")
    raw = compose(key, sender="CQP <ne-pas-repondre@cqp.example>", address="zoe@example.org",
                  rendered=render("convocation", convocation_context()), attachments=[invitation()])
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Message-ID"] == message_id(key, "cqp.example")
    assert message["To"] == "zoe@example.org" and message["Subject"].startswith("Convocation au jury « CQPM")
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar_part.get_param("method") == "REQUEST" and calendar_part.get_filename() == "convocation.ics"
    assert icalendar.Calendar.from_ical(calendar_part.get_content()).walk("VEVENT")


def test_the_sender_needs_a_domain_for_its_message_ids():
    assert domain_of("CQP <ne-pas-repondre@cqp.example>") == "cqp.example"
    with pytest.raises(InvalidInput):
        domain_of("nobody")


def test_retries_wait_twice_as_long_each_time_up_to_the_cap():
    assert [backoff(n, 30, 3600) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(0, 30, 3600) == 30


def test_only_a_final_refusal_of_the_recipient_or_message_is_permanent():
    assert permanent(aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "x")]))
    assert not permanent(aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", "x")]))
    assert permanent(aiosmtplib.SMTPDataError(554, "rejected"))
    assert not permanent(aiosmtplib.SMTPAuthenticationError(535, "bad credentials"))
    assert not permanent(aiosmtplib.SMTPConnectError("refused"))
    assert not permanent(ConnectionRefusedError())


def test_the_reason_kept_for_a_failure_never_holds_the_address():
    error = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "<zoe@example.org> unknown",
                                                                              "zoe@example.org")])
    assert "zoe@example.org" not in mail._reason(error, "zoe@example.org")


def test_the_outbox_migrations_are_numbered_in_order():
    check_numbering(mail.MIGRATIONS)


def test_a_sender_whose_lease_could_end_during_a_send_is_refused():
    from shared.settings import Settings
    with pytest.raises(ValueError, match="LEASE"):
        mail.Sender(None, Settings(mail_lease_seconds=10, smtp_timeout_seconds=30))
