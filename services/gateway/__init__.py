"""Gateway: one GraphQL API over read models built from the event topics."""
