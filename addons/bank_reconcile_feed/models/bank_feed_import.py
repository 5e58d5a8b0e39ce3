"""Statement import: files (camt.053/054, MT940) and the bank feed API into statement lines."""
import base64
import datetime
import io
import logging
import os
from collections import Counter
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_core.exceptions import BusinessError

from ..engine.camt import iter_camt
from ..engine.mt940 import iter_mt940
from ..engine.records import Entry, Statement, StatementParseError, compact_account, import_id

_logger = logging.getLogger(__name__)
BATCH = 2000


def sniff(head):
    """'camt' or 'mt940' from the first bytes of a file."""
    text = head.lstrip(b"\xef\xbb\xbf\x01 \r\n\t")
    return "camt" if text.startswith(b"<") else "mt940"


def iter_file(source):
    """Entries and statements of a statement file (bytes, or a path: then read as a stream)."""
    if isinstance(source, bytes):
        head, source = source[:64], io.BytesIO(source)
    else:
        with open(source, "rb") as handle:
            head = handle.read(64)
    parser = iter_camt if sniff(head) == "camt" else iter_mt940
    return parser(source, with_statements=True)


class BankFeedImport(models.AbstractModel):
    _name = "bank.feed.import"
    _description = "Bank statement import (job handlers)"

    # ------------------------------------------------------------------ files
    @api.model
    def _enqueue_file(self, backend, filename, data):
        """Store the file and queue one import job per statement in it (key: file digest + index)."""
        import hashlib
        digest = hashlib.sha256(data).hexdigest()
        statements = []
        try:
            for item in iter_file(data):
                if isinstance(item, Statement):
                    statements.append(item)
        except StatementParseError as exc:
            raise BusinessError(str(exc), code="statement_file_invalid", params={"file": filename}) from None
        attachment = self.env["ir.attachment"].sudo().create({
            "name": filename, "raw": data, "res_model": "finance.backend", "res_id": backend.id})
        return backend._enqueue_many("bank.file_import", [{
            "payload": {"attachment_id": attachment.id, "index": index, "filename": filename},
            "key": "file:%s:%d" % (digest, index),
            "summary": "Statement %s (%s, %s entries) from %s" % (
                st.identifier or index + 1, st.account, st.entry_count, filename),
        } for index, st in enumerate(statements)])

    @api.model
    def _job_import_file(self, job):
        payload = job.payload
        attachment = self.env["ir.attachment"].sudo().browse(payload["attachment_id"])
        # stream from the filestore: a large file is never loaded whole
        path = attachment.store_fname and attachment._full_path(attachment.store_fname)
        source = path if path and os.path.isfile(path) else attachment.raw
        index, entries, statement = -1, [], None
        try:
            for item in iter_file(source):
                if isinstance(item, Statement):
                    index += 1
                    if index == payload["index"]:
                        statement = item
                        break
                    entries = []
                else:
                    if item.statement is not None and index + 1 == payload["index"]:
                        entries.append(item)
        except StatementParseError as exc:
            raise BusinessError(str(exc), code="statement_file_invalid", params={"file": payload.get("filename")}) from None
        if statement is None:
            raise BusinessError("Statement %s is not in file %s" % (payload["index"] + 1, payload.get("filename")),
                                code="statement_file_invalid", params={"file": payload.get("filename")})
        return self._import_statement(job.backend_id.company_id, statement, entries)

    @api.model
    def _import_statement(self, company, statement, entries):
        """Create one account.bank.statement with the entries not imported yet; returns it (or the
        journal's lines when everything was there already). Raises BusinessError for an unknown
        account or a balance that does not continue the journal's last statement."""
        journal = self.env["account.journal"]._bank_journal_for(statement.account, company)
        if not journal:
            raise BusinessError("No bank journal has the account %s of statement %s" % (statement.account, statement.identifier),
                                code="unknown_bank_account", params={"account": statement.account, "statement": statement.identifier})
        booked = [e for e in entries if e.status == "BOOK"]
        values = self._line_values(journal, statement.account, booked, statement.kind)
        new_values = self._only_new(journal, values)
        # lines already imported from the feed, not yet on a statement: this statement takes them
        orphans = self.env["account.bank.statement.line"].search([
            ("journal_id", "=", journal.id), ("statement_id", "=", False),
            ("feed_import_id", "in", [v["feed_import_id"] for v in values])])
        if not new_values and not orphans:
            return None
        if statement.kind == "camt054" or statement.opening is None or statement.closing is None:
            # a notification (camt.054) carries no balances: it takes no part in continuity; its
            # lines wait without a statement for the camt.053 that contains them (which takes them)
            lines = self._create_lines(new_values)
            self._enqueue_match(journal, lines, "notification:%s:%s" % (statement.account, statement.identifier))
            return lines[:1] or None
        previous = self.env["account.bank.statement"].search([("journal_id", "=", journal.id)], order="date desc, id desc", limit=1)
        st = self.env["account.bank.statement"].create({
            "name": statement.identifier or statement.closing_date,
            "journal_id": journal.id,
            "balance_start": float(statement.opening),
            "balance_end_real": float(statement.closing),
        })
        for vals in new_values:
            vals["statement_id"] = st.id
        lines = self._create_lines(new_values)
        orphans.statement_id = st
        self._check_continuity(journal, statement, previous, sum((e.amount for e in booked), Decimal(0)))
        self._enqueue_match(journal, lines, "statement:%s" % st.id)
        return st

    @api.model
    def _check_continuity(self, journal, statement, previous, entries_total):
        """Per statement: opening = the previous statement's closing AND opening + entries = closing.
        A difference is an exception in the queue (the lines are kept)."""
        opening = Decimal(statement.opening).quantize(Decimal("0.01"))
        closing = Decimal(statement.closing).quantize(Decimal("0.01"))
        day = statement.closing_date or statement.opening_date or ""
        if previous:
            previous_closing = Decimal(str(previous.balance_end_real)).quantize(Decimal("0.01"))
            gap_from = previous.date and previous.date + datetime.timedelta(days=1)
            gap_to = statement.opening_date and fields.Date.to_date(statement.opening_date)
            missing = []
            if gap_from and gap_to and gap_to > gap_from:
                missing = [str(gap_from), str(gap_to - datetime.timedelta(days=1))]
            if previous_closing != opening:
                self._raise_balance_gap(journal, statement.account, day, opening - previous_closing, "opening", (
                    "Statement %s opens at %s but the last statement %s of %s closed at %s (difference %s%s)" % (
                        statement.identifier, opening, previous.name, journal.name, previous_closing,
                        opening - previous_closing, "; no statement from %s to %s" % tuple(missing) if missing else "")),
                    previous=previous.name, previous_closing=str(previous_closing), opening=str(opening),
                    missing_dates=missing)
        difference = closing - (opening + entries_total)
        if difference:
            self._raise_balance_gap(journal, statement.account, day, difference, "entries", (
                "Statement %s of %s: opening %s plus its entries %s is %s, but it closes at %s (difference %s)" % (
                    statement.identifier, statement.account, opening, entries_total, opening + entries_total,
                    closing, difference)), opening=str(opening), closing=str(closing))

    @api.model
    def _raise_balance_gap(self, journal, account, day, difference, check, message, **params):
        """Queue a balance difference as an exception (job type bank.balance_check, error code
        ``balance_gap``) naming the account, the day and the difference; the same difference of
        the same day is queued once (the job's idempotency key)."""
        backend = self._backend_for(journal)
        if not backend:
            _logger.warning("Balance difference on journal %s, no bank backend to report it", journal.id)
            return None
        difference = Decimal(difference).quantize(Decimal("0.01"))
        return backend._enqueue(
            "bank.balance_check",
            payload=dict(params, journal_id=journal.id, account=account, day=str(day), check=check,
                         difference=str(difference), message=message),
            key="balance:%s:%s:%s:%s" % (journal.id, day, check, difference),
            summary="Balance difference %s on %s, %s" % (difference, account, day))

    @api.model
    def _job_balance_gap(self, job):
        """The exception of a balance difference: it waits for a person (resolve with a note)."""
        payload = dict(job.payload)
        raise BusinessError(payload.pop("message"), code="balance_gap", params=payload)

    @api.model
    def _check_feed_balances(self, journal, client, iban, date_from, date_to, correlation_id=None):
        """Feed mode, per day of the pull: the balances endpoint's opening = the previous day's
        closing AND opening + the journal's booked lines of the day = closing."""
        day = fields.Date.to_date(date_from)
        end = fields.Date.to_date(date_to)

        def balance(date):
            data = client.get("/api/v1/accounts/%s/balances" % iban, params={"date": str(date)},
                              correlation_id=correlation_id).data
            return Decimal(str(data["opening_booked"])), Decimal(str(data["closing_booked"]))

        previous_closing = balance(day - datetime.timedelta(days=1))[1]
        while day <= end:
            opening, closing = balance(day)
            if opening != previous_closing:
                self._raise_balance_gap(journal, iban, day, opening - previous_closing, "opening", (
                    "The bank's opening balance of %s on %s is %s but the previous day closed at %s (difference %s)" % (
                        iban, day, opening, previous_closing, opening - previous_closing)),
                    opening=str(opening), previous_closing=str(previous_closing))
            self.env.cr.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM account_bank_statement_line l JOIN account_move m ON m.id = l.move_id "
                "WHERE l.journal_id = %s AND m.date = %s AND l.feed_import_id IS NOT NULL", (journal.id, day))
            total = Decimal(str(self.env.cr.fetchone()[0])).quantize(Decimal("0.01"))
            difference = closing - (opening + total)
            if difference:
                self._raise_balance_gap(journal, iban, day, difference, "entries", (
                    "%s on %s: the bank's opening %s plus the %s booked in Odoo is %s, but the bank closes at %s "
                    "(difference %s: the feed lost or doubled something)" % (
                        iban, day, opening, total, opening + total, closing, difference)),
                    opening=str(opening), closing=str(closing))
            previous_closing = closing
            day += datetime.timedelta(days=1)

    @api.model
    def _line_values(self, journal, account, entries, source):
        """Statement line values with their import ids; identical twins in one batch get an
        occurrence number so both are kept, and the same batch always gives the same ids."""
        occurrences = Counter()
        partners = self._partners_by_iban({e.counterparty_iban for e in entries if e.counterparty_iban})
        currencies = {}
        journal_currency = journal.currency_id or journal.company_id.currency_id
        for code in {e.foreign_currency for e in entries if e.foreign_currency}:
            currency = self.env["res.currency"].search([("name", "=", code)], limit=1)
            if currency and currency != journal_currency:
                currencies[code] = currency.id
        result = []
        for entry in entries:
            base = import_id(account, entry.booking_date, entry.amount, entry.counterparty_iban or entry.counterparty_name,
                             entry.remittance, entry.bank_reference)
            occurrence = occurrences[base]
            occurrences[base] += 1
            if occurrence and base.startswith("ref:"):
                # the bank's reference identifies the entry: seen again, it is the same entry
                continue
            if occurrence:
                # no reference (NOTPROVIDED): identical twins are genuine, both are kept
                base = import_id(account, entry.booking_date, entry.amount, entry.counterparty_iban or entry.counterparty_name,
                                 entry.remittance, entry.bank_reference, occurrence)
            result.append({
                "journal_id": journal.id,
                "date": entry.booking_date or entry.value_date or fields.Date.context_today(self),
                "amount": float(entry.amount),
                "payment_ref": entry.remittance or entry.structured_reference or entry.counterparty_name or "/",
                "partner_name": entry.counterparty_name or False,
                "account_number": entry.counterparty_iban or False,
                "partner_id": partners.get(compact_account(entry.counterparty_iban), False),
                "feed_import_id": base,
                "feed_source": source,
                "feed_transaction_id": entry.transaction_id or False,
                "feed_end_to_end_id": entry.end_to_end_id or False,
                "feed_structured_reference": entry.structured_reference or False,
                "feed_match_state": "new",
            })
            if entry.foreign_currency in currencies and entry.foreign_amount:
                # the bank's amount in the payer's currency: FX items are matched on it
                result[-1].update(foreign_currency_id=currencies[entry.foreign_currency],
                                  amount_currency=float(entry.foreign_amount))
        return result

    @api.model
    def _partners_by_iban(self, ibans):
        if not ibans:
            return {}
        keys = {compact_account(i) for i in ibans}
        banks = self.env["res.partner.bank"].search([("sanitized_acc_number", "in", list(keys))])
        return {b.sanitized_acc_number: b.partner_id.id for b in banks}

    @api.model
    def _only_new(self, journal, values):
        ids = [v["feed_import_id"] for v in values]
        existing = set()
        for start in range(0, len(ids), 10000):
            self.env.cr.execute(
                "SELECT feed_import_id FROM account_bank_statement_line WHERE journal_id = %s AND feed_import_id = ANY(%s)",
                (journal.id, ids[start:start + 10000]))
            existing.update(r[0] for r in self.env.cr.fetchall())
        txn_ids = [v["feed_transaction_id"] for v in values if v.get("feed_transaction_id")]
        known_txns = set()
        if txn_ids:
            self.env.cr.execute(
                "SELECT feed_transaction_id FROM account_bank_statement_line WHERE journal_id = %s AND feed_transaction_id = ANY(%s)",
                (journal.id, txn_ids))
            known_txns.update(r[0] for r in self.env.cr.fetchall())
        return [v for v in values if v["feed_import_id"] not in existing
                and not (v.get("feed_transaction_id") and v["feed_transaction_id"] in known_txns)]

    @api.model
    def _create_lines(self, values):
        """One create call per batch of a statement's lines; the batch's move names come from one
        sequence look-up per journal and month (see account.move._get_next_sequence_format)."""
        lines = self.env["account.bank.statement.line"]
        journals = self.env["account.journal"].browse({v["journal_id"] for v in values})
        # no distribution model can apply: the entries' lines skip the analytic look-up per line
        no_model = not self.env["account.analytic.distribution.model"].search_count(
            [("company_id", "in", (False, *journals.company_id.ids))], limit=1)
        for start in range(0, len(values), BATCH):
            formats = {}
            # Odoo's create writes each line's move once more after creating it, and every such
            # write checks that move's balance on its own (a flush and a query per line); the
            # batch's balance is checked below in one query instead
            bulk = lines.with_context(bank_feed_sequence_formats=formats, check_move_validity=False,
                                      bank_feed_no_distribution_model=no_model)
            batch = bulk.create(values[start:start + BATCH])
            # the names are computed while the batch is posted or at the next flush: flush here,
            # still under the context
            bulk.env.flush_all()
            moves = batch.with_env(self.env).move_id
            unbalanced = moves._get_unbalanced_moves({"records": moves})
            if unbalanced:
                raise UserError(self.env._("Bank statement import: entries %s are not balanced.",
                                  ", ".join(str(row[0]) for row in unbalanced)))
            lines |= batch.with_env(self.env)
        return lines

    @api.model
    def _backend_for(self, journal):
        """The backend whose queue carries a journal's jobs: its feed's, else the company's bank backend."""
        return journal.bank_feed_backend_id or self.env["finance.backend"].search(
            [("kind", "=", "bank"), ("company_id", "=", journal.company_id.id)], limit=1)

    @api.model
    def _enqueue_match(self, journal, lines, key):
        backend = self._backend_for(journal)
        if not lines or not backend:
            return
        backend._enqueue("bank.match", payload={"line_ids": lines.ids}, key="match:%s" % key,
                        summary="Match %d bank lines of %s" % (len(lines), journal.name))

    # ------------------------------------------------------------------ bank feed API
    @api.model
    def _cron_pull(self):
        """Queue one pull job per bank journal with a feed backend (the jobs do the work)."""
        today = fields.Date.context_today(self)
        for journal in self.env["account.journal"].search([("bank_feed_backend_id", "!=", False)]):
            backend = journal.bank_feed_backend_id
            if backend.state != "active":
                continue
            self._enqueue_pull(journal, today - datetime.timedelta(days=backend.bank_pull_days), today)

    @api.model
    def _enqueue_pull(self, journal, date_from, date_to, mode=None):
        backend = journal.bank_feed_backend_id
        mode = mode or backend.bank_pull_mode
        hour = fields.Datetime.now().strftime("%Y%m%d%H")
        return backend._enqueue(
            "bank.feed_pull" if mode == "transactions" else "bank.feed_statements",
            payload={"journal_id": journal.id, "iban": journal._bank_iban(), "from": str(date_from), "to": str(date_to)},
            key="pull:%s:%s:%s:%s:%s" % (mode, journal.id, date_from, date_to, hour),
            summary="Pull %s of %s, %s to %s" % ("booked transactions" if mode == "transactions" else "statements",
                                                 journal.name, date_from, date_to))

    @api.model
    def _job_pull_statements(self, job):
        """List the account's camt.053 statements of the period, download each and queue its import
        (file digest + index as key: a statement fetched again is not imported twice)."""
        payload = job.payload
        client = job.backend_id._http_client()
        listing = client.paginate("/api/v1/accounts/%s/statements" % payload["iban"],
                                  params={"from": payload["from"], "to": payload["to"]}, correlation_id=job.correlation_id)
        for statement in list(listing):
            xml = client.get(statement["url"], expect="bytes", correlation_id=job.correlation_id).content
            self._enqueue_file(job.backend_id, "%s.xml" % statement["id"], xml)

    @api.model
    def _job_pull(self, job):
        payload = job.payload
        journal = self.env["account.journal"].browse(payload["journal_id"])
        client = job.backend_id._http_client()
        txns = client.paginate("/api/v1/accounts/%s/transactions" % payload["iban"],
                               params={"booked_from": payload["from"], "booked_to": payload["to"], "status": "booked"},
                               correlation_id=job.correlation_id)
        result = self._import_transactions(journal, payload["iban"], list(txns), key="pull:%s" % job.id)
        self._check_feed_balances(journal, client, payload["iban"], payload["from"], payload["to"], job.correlation_id)
        return result

    @api.model
    def _job_feed_transaction(self, job):
        """Webhook ``bank_transaction.booked``: one transaction."""
        txn = job.payload.get("data") or {}
        iban = txn.get("account") or txn.get("iban") or ""
        journals = self.env["account.journal"].search([("bank_feed_backend_id", "=", job.backend_id.id)])
        if iban:
            journal = journals.filtered(lambda j: j._bank_iban() == compact_account(iban))[:1]
        elif len(journals) > 1 and txn.get("booking_date"):
            # the contract's Txn names no account: pull that booking day for every account of the
            # backend instead; each pull reads its own account and the import ids deduplicate
            day = fields.Date.to_date(txn["booking_date"])
            for each in journals:
                self._enqueue_pull(each, day, day)
            return None
        else:
            journal = journals if len(journals) == 1 else journals.browse()
        if not journal:
            raise BusinessError("No bank journal of backend %s for this transaction" % job.backend_id.name,
                                code="unknown_bank_account", params={"account": iban})
        return self._import_transactions(journal, journal._bank_iban(), [txn], key="event:%s" % job.id)

    @api.model
    def _import_transactions(self, journal, iban, txns, key):
        seen, entries = set(), []
        for txn in txns:
            if txn.get("status") != "booked" or not txn.get("booking_date"):
                continue
            if txn.get("id"):
                # the contract: the same id seen twice (a page boundary, a later pull) is the same transaction
                if txn["id"] in seen:
                    continue
                seen.add(txn["id"])
            entries.append(self._txn_entry(txn))
        values = self._line_values(journal, iban, entries, "feed")
        lines = self._create_lines(self._only_new(journal, values))
        self._enqueue_match(journal, lines, key)
        return lines[:1] or None

    @staticmethod
    def _txn_entry(txn):
        entry = Entry(amount=Decimal(str(txn["amount"])), currency=txn.get("currency") or "",
                     booking_date=txn.get("booking_date"), value_date=txn.get("value_date"), status="BOOK",
                     bank_reference=txn.get("bank_reference") or "", end_to_end_id=txn.get("end_to_end_id") or "",
                     counterparty_name=txn.get("counterparty_name") or "",
                     counterparty_iban=txn.get("counterparty_iban") or "",
                     remittance=txn.get("remittance_info") or "",
                     structured_reference=txn.get("structured_reference") or "")
        entry.transaction_id = txn.get("id") or ""
        return entry

    @api.model
    def _upload(self, backend, filename, b64):
        return self._enqueue_file(backend, filename, base64.b64decode(b64))
