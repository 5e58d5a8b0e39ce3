"""Pure ISO 20022 engine of the treasury connector (no ORM): pain.001 builder, pain.002 parser,
SEPA transliteration and XSD validation. Importable and testable without a database."""
