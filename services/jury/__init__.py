"""Jury: evaluations, jury sessions, decisions, certificates; publishes cqp.jury.events."""
