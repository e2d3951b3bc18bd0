"""Catalog: branches, certifications and their référentiels; publishes cqp.catalog.events."""
