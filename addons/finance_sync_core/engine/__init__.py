"""Pure building blocks of the job pipeline (no ORM, no database)."""
