"""The certifier's daily reports over the read models: a session's roster, its decisions, a branch's
holders. Each is one SQL statement, shared by GraphQL and the CSV exports (services/gateway/exports.py)."""
