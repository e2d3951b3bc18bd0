"""Candidacy: candidates and their candidacies; publishes cqp.candidacy.events."""
