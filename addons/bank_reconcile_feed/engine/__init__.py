"""Pure engines of bank_reconcile_feed: statement parsers and the matching engine (no ORM)."""
