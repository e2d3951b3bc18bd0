"""Operators' tools (the `cqp` command): above the services, which import nothing from here."""
