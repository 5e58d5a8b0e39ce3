"""Job handlers of the expense platform (declared in data/job_type_data.xml)."""
import logging
from decimal import Decimal

import psycopg2

from odoo import Command, api, fields, models
from odoo.tools.sql import escape_psql

from odoo.addons.finance_sync_core import protection
from odoo.addons.finance_sync_core.exceptions import BusinessError, TransientError, UnmappedValueError

from .. import canonical as C

_logger = logging.getLogger(__name__)


def _to_decimal(value, currency):
    """An Odoo float amount as a Decimal with the currency's decimals (the ORM -> canonical boundary)."""
    return Decimal(repr(currency.round(value))).quantize(Decimal(1).scaleb(-currency.decimal_places))


SHEET_MODE_SUFFIX = {"own_account": " (to reimburse)", "company_account": " (paid by company card)"}


class ExpenseConnector(models.AbstractModel):
    _name = "expense.connector"
    _description = "Expense platform jobs"

    # ------------------------------------------------------------------ webhook
    @api.model
    def _job_webhook(self, job):
        """A webhook only queues the job a pull would queue (same idempotency key: one job)."""
        payload = job.payload or {}
        kind = "card" if payload.get("event_type", "").startswith("card_transaction") else "report"
        jobs = job.backend_id._expense_enqueue_records(kind, [payload.get("data")])
        return jobs[:1]

    # ------------------------------------------------------------------ report
    @api.model
    def _job_report(self, job):
        backend = job.backend_id
        report = C.parse_report((job.payload or {}).get("report"))
        sheets = protection.internal(self.env["hr.expense.sheet"].sudo()).search([
            ("finance_backend_id", "=", backend.id), ("expense_report_ref", "=", report.id)])
        if sheets:
            return self._report_seen_again(report, sheets)
        if not report.postable:
            return None  # never posted and not approved: nothing to account for
        if self._superseded(job, report):
            return None
        return self._post_report(backend, report, post_on=job.accounting_date)

    def _superseded(self, job, report):
        """A newer version of the report is queued or known: this older one must not post."""
        prefix = "report:%s:v" % report.id
        # a prefix match on the (backend, key) pattern index of finance_sync_job; the report id is
        # escaped (ids like rep_8f2c hold LIKE wildcards) and the prefix checked again in Python
        self.env["finance.sync.job"].flush_model(["backend_id", "idempotency_key"])
        self.env.cr.execute("""
            SELECT idempotency_key FROM finance_sync_job
             WHERE backend_id = %s AND idempotency_key LIKE %s AND id != %s
        """, (job.backend_id.id, escape_psql(prefix) + "%", job.id))
        for (key,) in self.env.cr.fetchall():
            version = key[len(prefix):] if key.startswith(prefix) else ""
            if version.isdigit() and int(version) > report.version:
                return True
        return False

    def _report_seen_again(self, report, sheets):
        """Same or older version: no-op. Newer: status change, or an exception for a person."""
        known = max(sheets.mapped("expense_report_version"))
        if report.version <= known:
            return sheets[:1]
        if report.fingerprint() != sheets[0].expense_fingerprint:
            changes = C.content_diff(sheets[0].expense_content or {},
                                     C.content_snapshot(report.lines, report.currency, report.total_amount))
            raise BusinessError(
                "Report %s was amended after posting (version %s posted, now %s): %s" % (
                    report.id, sheets[0].expense_posted_version, report.version, "; ".join(changes[:10])),
                code="amended_after_posting",
                params={"report_id": report.id, "posted_version": sheets[0].expense_posted_version,
                        "version": report.version, "changes": changes,
                        "moves": sheets.account_move_ids.mapped("name")},
            )
        if report.status in C.WITHDRAWN_STATUSES:
            raise BusinessError(
                "Report %s was %s on the platform after it was posted in %s" % (
                    report.id, report.status, ", ".join(sheets.account_move_ids.mapped("name"))),
                code="%s_after_posting" % report.status,
                params={"report_id": report.id, "status": report.status, "version": report.version,
                        "moves": sheets.account_move_ids.mapped("name")},
            )
        sheets.write({"expense_report_version": report.version, "expense_report_status": report.status})
        return sheets[:1]

    # ------------------------------------------------------------------ posting
    def _post_report(self, backend, report, post_on=None):
        """Map, check, then create the expenses and their sheet(s), approve and post them.

        ``post_on``: the date an accountant chose with "Re-date and retry" (the period of the
        report's own date was locked); every entry of the report posts on it."""
        # every value of the report mapped in one query, its currencies read in another; the
        # errors are still raised in the order of the checks below
        mapped = backend._map_all(self._mapping_pairs(report))
        currencies = self._currencies({report.currency, *(line.currency for line in report.lines)})
        company = backend._map_from(mapped, "company", report.company_ref)
        C.check_total(report)
        employee = self._employee(backend, report, company, mapped)
        currency = self._currency(report.currency, currencies)
        self._check_rate(currency, company, report)
        accounting_date = post_on or (report.approved_at.date() if report.approved_at
                                      else fields.Date.context_today(self))
        journal = backend.expense_journal_id or company.expense_journal_id or self.env["account.journal"].search([
            *self.env["account.journal"]._check_company_domain(company), ("type", "=", "purchase")], limit=1)
        card_method = self._card_payment_method(backend, report)
        prepared = [self._prepare_line(backend, report, line, company, employee, currency, mapped, currencies)
                    for line in report.lines]
        if post_on:
            for vals in prepared:
                if vals["payment_mode"] == "company_account":
                    vals["date"] = post_on  # Odoo posts card expenses on the expense's date
        self._check_lock_dates(company, report, accounting_date, journal, card_method, post_on)
        self._check_duplicate_receipts(backend, report)
        receipts = self._download_receipts(backend, report)

        # internal: the platform fields of expenses and sheets are the sync's to write
        Expense = protection.internal(self.env["hr.expense"].sudo().with_company(company))
        sheets = protection.internal(self.env["hr.expense.sheet"].sudo().with_company(company))
        modes = [m for m in ("own_account", "company_account") if any(v["payment_mode"] == m for v in prepared)]
        for mode in modes:
            vals_list = [vals for vals in prepared if vals["payment_mode"] == mode]
            if not vals_list:
                continue
            expenses = Expense.create(vals_list)
            self._check_expense_taxes(backend, report, expenses, currency)
            for expense in expenses:
                self._attach_receipt(expense, receipts.get(expense.expense_line_ref))
            sheet_vals = {
                # a report paid both ways becomes two sheets (Odoo pays them differently): say which is which
                "name": ("%s - %s%s" % (report.id, report.employee_name or employee.name,
                                        "" if len(modes) == 1 else SHEET_MODE_SUFFIX[mode]))[:128],
                "employee_id": employee.id, "company_id": company.id,
                "expense_line_ids": [Command.set(expenses.ids)],
                "finance_backend_id": backend.id, "expense_report_ref": report.id,
                "expense_report_version": report.version, "expense_posted_version": report.version,
                "expense_report_status": report.status, "expense_payment_mode": mode,
                "expense_fingerprint": report.fingerprint(),
                "expense_content": C.content_snapshot(report.lines, report.currency, report.total_amount),
                "expense_writeback_state": "pending",
            }
            if mode == "own_account":
                sheet_vals.update({"accounting_date": accounting_date, "employee_journal_id": journal.id})
            else:
                sheet_vals["payment_method_line_id"] = card_method.id
            sheets |= self._create_sheet(sheet_vals)
        sheets.action_submit_sheet()
        sheets._do_approve()
        sheets.action_sheet_move_post()
        self.env["expense.card.transaction"].sudo()._settle_claims(backend, sheets)
        moves = sheets.account_move_ids
        backend._enqueue("expense.writeback", key="writeback:%s:v%s:posted" % (report.id, report.version),
                        summary="Write back posted: expense report %s v%s" % (report.id, report.version),
                        payload={"report_id": report.id, "status": "posted", "version": report.version,
                                 "reference": ", ".join(moves.mapped("name"))[:200],
                                 "posted_at": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")})
        return sheets[:1]

    def _create_sheet(self, vals):
        """Create under the unique (backend, report, mode) constraint: a concurrent job that
        posted the same report first makes this one retry (and then find the sheet)."""
        try:
            with self.env.cr.savepoint():
                sheet = protection.internal(self.env["hr.expense.sheet"].sudo()).create(vals)
                sheet.flush_recordset()
        except psycopg2.errors.UniqueViolation:
            raise TransientError("Report %s is being posted by another job" % vals["expense_report_ref"],
                                 code="db_conflict") from None
        return sheet

    @staticmethod
    def _mapping_pairs(report):
        """Every (kind, code) the posting of ``report`` maps."""
        pairs = [("company", report.company_ref), ("employee", report.employee_id)]
        for line in report.lines:
            pairs.append(("expense_category", line.category_code))
            if line.tax_code:
                pairs.append(("tax", line.tax_code))
            pairs += [("analytic", code) for code in (line.cost_center, line.project_code) if code]
        return pairs

    def _employee(self, backend, report, company, mapped=None):
        employee = backend._map_from(mapped or {}, "employee", report.employee_id, required=False)
        if not employee and report.employee_email:
            employee = self.env["hr.employee"].sudo().search([
                ("work_email", "=ilike", report.employee_email), ("company_id", "in", (company.id, False))], limit=2)
            employee = employee if len(employee) == 1 else None
        if not employee:
            raise UnmappedValueError("employee", report.employee_id, message="No employee for %s (%s, %s)" % (
                report.employee_id, report.employee_name, report.employee_email))
        if not (employee.work_email and employee.work_contact_id):
            # Odoo 18 refuses to create the entries of an employee without work email / contact
            raise BusinessError(
                "Employee %s needs a work email and a work contact before their expenses can post" % employee.name,
                code="employee_incomplete", params={"employee_id": report.employee_id, "odoo_employee": employee.id})
        return employee

    def _currencies(self, codes):
        """{code: currency} of the known ones among ``codes``, archived ones included (one query)."""
        found = self.env["res.currency"].with_context(active_test=False).search([("name", "in", list(codes))])
        return {currency.name: currency for currency in found}

    def _currency(self, code, known=None):
        currency = (known if known is not None else self._currencies({code})).get(code)
        if not currency:
            raise UnmappedValueError("currency", code)
        return currency

    def _check_rate(self, currency, company, report):
        if currency == company.currency_id:
            return
        date = report.approved_at.date() if report.approved_at else fields.Date.context_today(self)
        rate = self.env["res.currency.rate"].sudo().search([
            ("currency_id", "=", currency.id), ("company_id", "in", (company.id, False)),
            ("name", "<=", date)], limit=1)
        if not rate or not currency.active:
            raise BusinessError(
                "No %s rate on or before %s in %s: add the rate, then retry" % (currency.name, date, company.name),
                code="missing_currency_rate",
                params={"currency": currency.name, "date": str(date), "company": company.name, "report_id": report.id})

    def _card_payment_method(self, backend, report):
        if not any(line.payment_method == "company_card" for line in report.lines):
            return None
        journal = backend.expense_card_journal_id
        method = journal.outbound_payment_method_line_ids[:1]
        if not (journal and method and backend.expense_card_clearing_account_id):
            raise BusinessError(
                "Report %s has company card lines but the backend has no card journal (with an outbound "
                "payment method) and card clearing account" % report.id,
                code="card_setup_missing", params={"report_id": report.id})
        return method

    def _prepare_line(self, backend, report, line, company, employee, currency, mapped=None, currencies=None):
        mapped = mapped if mapped is not None else {}
        product = backend._map_from(mapped, "expense_category", line.category_code)
        taxes = backend._map_from(mapped, "tax", line.tax_code) if line.tax_code else self.env["account.tax"]
        if not self._tax_checked_on_expense(report, line):
            self._check_tax(backend, report, line, taxes, currencies)
        distribution = {}
        for code in (line.cost_center, line.project_code):
            if code:
                distribution[str(backend._map_from(mapped, "analytic", code).id)] = 100.0
        amount_currency = float(line.report_amount)
        if currency == company.currency_id:
            amount_company = amount_currency
        else:
            amount_company = currency._convert(amount_currency, company.currency_id, company,
                                               report.approved_at.date() if report.approved_at else line.date)
        description = line.description
        if line.currency != report.currency:
            description = "%s\n%s %s" % (description, line.amount, line.currency)
        return {
            "name": (line.description or line.merchant or line.category_code)[:256],
            "description": description,
            "employee_id": employee.id, "company_id": company.id, "product_id": product.id,
            "date": line.date, "currency_id": currency.id, "quantity": 1,
            "total_amount_currency": amount_currency, "total_amount": amount_company,
            "tax_ids": [Command.set(taxes.ids)],
            "analytic_distribution": distribution or False,
            "payment_mode": "own_account" if line.payment_method == "own_account" else "company_account",
            "expense_report_ref": report.id, "expense_line_ref": line.id,
            "expense_card_transaction_ref": line.card_transaction_id,
            "expense_spent_amount": "%s %s" % (line.amount, line.currency),
            "expense_receipt_sha256": line.receipt.sha256 if line.receipt else False,
        }

    @staticmethod
    def _tax_checked_on_expense(report, line):
        """Whether the line's tax is compared with the tax Odoo computes on the expense itself
        (after creating it, see ``_check_expense_taxes``) rather than with a separate computation:
        when the expense's amount is the amount spent (same currency, same amount), the expense's
        own tax (tax included, the same engine and rounding) is the tax Odoo computes on it."""
        return (line.tax_amount is not None and bool(line.tax_code) and line.currency == report.currency
                and line.amount == line.report_amount)

    def _check_expense_taxes(self, backend, report, expenses, currency):
        """``_check_tax`` for the lines ``_tax_checked_on_expense`` left to the created expenses."""
        lines = {line.id: line for line in report.lines}
        for expense in expenses:
            line = lines.get(expense.expense_line_ref)
            if line is not None and self._tax_checked_on_expense(report, line):
                self._check_tax(backend, report, line, expense.tax_ids,
                                computed=_to_decimal(expense.tax_amount_currency, currency))

    def _check_tax(self, backend, report, line, taxes, currencies=None, computed=None):
        """Platform tax_amount vs the tax Odoo computes on the amount spent (tax included).

        A null ``tax_amount`` states no tax: Odoo computes it from the mapped code and there is
        nothing to compare (contract, Report.lines[].tax_amount). ``computed``: Odoo's tax of the
        line already known (the expense's own)."""
        if line.tax_amount is None:
            return
        if computed is None:
            spent = self._currency(line.currency, currencies)
            computed = Decimal(0)
            if taxes:
                result = taxes.with_context(force_price_include=True).compute_all(float(line.amount), currency=spent)
                computed = _to_decimal(result["total_included"] - result["total_excluded"], spent)
        tolerance = Decimal(repr(backend.expense_tax_tolerance)).quantize(Decimal("0.0001"))
        diff = C.tax_difference(line.tax_amount, computed, tolerance)
        if diff is not None:
            raise BusinessError(
                "Report %s line %s: the platform's tax is %s %s, Odoo computes %s %s with %s" % (
                    report.id, line.id, line.tax_amount, line.currency, computed, line.currency,
                    ", ".join(taxes.mapped("name")) or "no tax"),
                code="tax_mismatch",
                params={"report_id": report.id, "line_id": line.id, "tax_code": line.tax_code,
                        "platform_tax": str(line.tax_amount), "odoo_tax": str(computed),
                        "difference": str(diff), "tolerance": str(tolerance), "currency": line.currency},
            )

    def _check_lock_dates(self, company, report, accounting_date, journal, card_method, post_on=None):
        dates = set()
        if any(line.payment_method == "own_account" for line in report.lines):
            dates.add((accounting_date, journal))
        for line in report.lines:
            if line.payment_method == "company_card":
                dates.add((post_on or line.date, card_method.journal_id))
        for date, jrnl in sorted(dates, key=lambda d: d[0]):
            violated = company._get_violated_lock_dates(date, True, jrnl)
            if violated:
                lock_date, lock_name = violated[-1]
                raise BusinessError(
                    "Report %s would post on %s but %s is locked up to %s" % (report.id, date, company.name, lock_date),
                    code="period_locked",
                    params={"report_id": report.id, "date": str(date), "lock_date": str(lock_date),
                            "lock": str(lock_name), "company": company.name},
                )

    def _check_duplicate_receipts(self, backend, report):
        hashes = {line.receipt.sha256: line.id for line in report.lines if line.receipt}
        if not hashes:
            return
        other = self.env["hr.expense"].sudo().search([
            ("expense_receipt_sha256", "in", list(hashes)), ("expense_report_ref", "!=", report.id)], limit=1)
        if other:
            raise BusinessError(
                "Report %s line %s uses a receipt already claimed in report %s (line %s)" % (
                    report.id, hashes[other.expense_receipt_sha256], other.expense_report_ref, other.expense_line_ref),
                code="duplicate_receipt",
                params={"report_id": report.id, "line_id": hashes[other.expense_receipt_sha256],
                        "sha256": other.expense_receipt_sha256, "other_report_id": other.expense_report_ref,
                        "other_line_id": other.expense_line_ref},
            )

    def _download_receipts(self, backend, report):
        if not backend.expense_download_receipts:
            return {}
        adapter = backend._expense_adapter()
        cap = backend.expense_receipt_max_kb * 1024
        return {line.id: adapter.receipt(line.receipt.url, line.receipt.sha256, max_bytes=cap, line_id=line.id)
                for line in report.lines if line.receipt}

    def _attach_receipt(self, expense, content):
        if not content:
            return
        attachment = self.env["ir.attachment"].sudo().create({
            "name": "%s.pdf" % expense.expense_line_ref, "raw": content, "mimetype": "application/pdf",
            "res_model": "hr.expense", "res_id": expense.id,
        })
        expense._message_set_main_attachment_id(attachment, force=True)

    # ------------------------------------------------------------------ write-back
    @api.model
    def _job_writeback(self, job):
        payload = job.payload or {}
        backend = job.backend_id
        answer = backend._expense_adapter().accounting_status(
            payload["report_id"], payload["status"], payload["version"], job.idempotency_key,
            reference=payload.get("reference"), posted_at=payload.get("posted_at"))
        sheets = protection.internal(self.env["hr.expense.sheet"].sudo()).search([
            ("finance_backend_id", "=", backend.id), ("expense_report_ref", "=", payload["report_id"])])
        state = payload["status"] if answer == "ok" else "stale"
        if state in ("posted", "paid", "stale"):
            # a technical field of the sync, not tracked: nothing for the chatter to compare
            sheets.with_context(mail_notrack=True).write({"expense_writeback_state": state})
        if answer != "ok":
            for sheet in sheets:
                sheet.message_post(body=self.env._(
                    "The platform refused the %(status)s write-back of version %(version)s: it has a newer version.",
                    status=payload["status"], version=payload["version"]))
        return sheets[:1]
