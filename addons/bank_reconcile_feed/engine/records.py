"""Canonical statement records shared by the camt and MT940 parsers (plain Python, Decimal amounts)."""
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal


class StatementParseError(ValueError):
    """A statement file that cannot be read; the message says what and where."""


PLACEHOLDERS = {"", "NOTPROVIDED", "NONREF", "NONE", "N/A"}
_SPACES = re.compile(r"\s+")


@dataclass
class Statement:
    kind: str                      # camt053 | camt054 | mt940
    identifier: str = ""
    account: str = ""              # IBAN when the file gives one, else the account number as written
    currency: str = ""
    opening: Decimal = None        # None when the file has no opening balance (camt.054, MT942)
    opening_date: str = None       # ISO date
    closing: Decimal = None
    closing_date: str = None
    entry_count: int = 0
    entry_total: Decimal = Decimal(0)


@dataclass
class Entry:
    amount: Decimal                # signed: negative = money out
    currency: str = ""
    booking_date: str = None
    value_date: str = None
    status: str = "BOOK"
    bank_reference: str = ""       # AcctSvcrRef / MT940 bank reference; "" when a placeholder
    end_to_end_id: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    reversal: bool = False
    statement: Statement = field(default=None, repr=False)
    foreign_currency: str = ""     # the instructed amount's currency when it differs (camt AmtDtls/InstdAmt)
    foreign_amount: Decimal = None  # the instructed amount, signed like ``amount``
    transaction_id: str = ""       # the bank feed's id of a booked transaction (feed only)

    def import_id(self, account, occurrence=0):
        """The line's unique import id: the bank's reference when it is real, otherwise a SHA-256
        fingerprint of account, booking date, amount, counterparty and remittance (plus the
        occurrence number of identical entries inside one statement, so twins are both kept)."""
        return import_id(account, self.booking_date, self.amount, self.counterparty_iban or self.counterparty_name,
                         self.remittance, self.bank_reference, occurrence)


def real_reference(value):
    value = (value or "").strip()
    return "" if value.upper() in PLACEHOLDERS else value


def fingerprint(account, booking_date, amount, counterparty, remittance, occurrence=0):
    parts = [compact_account(account), booking_date or "", "%.2f" % Decimal(amount),
             _SPACES.sub(" ", (counterparty or "").strip().upper()), _SPACES.sub(" ", (remittance or "").strip().upper())]
    if occurrence:
        parts.append(str(occurrence))
    return "sha256:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def import_id(account, booking_date, amount, counterparty, remittance, bank_reference, occurrence=0):
    ref = real_reference(bank_reference)
    if ref:
        return "ref:%s" % ref
    return fingerprint(account, booking_date, amount, counterparty, remittance, occurrence)


def compact_account(value):
    return re.sub(r"[\s\-]", "", value or "").upper()


def group_statements(items):
    """``[(statement, [entries])]`` from a parser's stream of entries followed by their statement."""
    result, current = [], []
    for item in items:
        if isinstance(item, Statement):
            result.append((item, current))
            current = []
        else:
            current.append(item)
    return result
