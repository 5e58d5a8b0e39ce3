import base64
import datetime
import decimal
import hashlib
import json
import uuid

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import iso11649

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.finance_sync_core.exceptions import BusinessError
from odoo.addons.finance_sync_core.guard import guarded

from ..engine import pain001, pain002, xsd
from . import protection

STATES = [
    ("draft", "Draft"), ("to_approve", "To Approve"), ("approved", "Approved"), ("sent", "Sent"),
    ("accepted", "Accepted"), ("partially_accepted", "Partially Accepted"), ("rejected", "Rejected"),
    ("settled", "Settled"), ("cancelled", "Cancelled"),
]
# Named transitions: the only way ``state`` changes (see _transition).
TRANSITIONS = {
    "submit": (("draft",), "to_approve"),
    "approve": (("to_approve",), "approved"),
    "reset": (("to_approve", "approved"), "draft"),
    "release": (("approved",), "sent"),
    "cancel": (("draft", "to_approve", "approved", "sent"), "cancelled"),
    # driven by the bank's status reports
    "report": (("sent", "accepted", "partially_accepted"), None),
}
APPROVER = "treasury_connector.group_treasury_approver"
PREPARER = "account.group_account_invoice"
# content of a batch (what its approvers approve); changing any of it makes the writer a preparer
BATCH_CONTENT_FIELDS = {"payment_ids", "journal_id", "currency_id"}
REPORTED_STATES = ("sent", "accepted", "partially_accepted", "rejected", "settled")
PROTECTED_FIELDS = {"state", "approvals_required", "msg_id", "pain_version", "attachment_id", "treasury_ref",
                    "sent_at", "resend_count", "last_report_msg_id", "last_report_at", "company_id",
                    "transmission_in_doubt"}


class TreasuryPaymentBatch(models.Model):
    """Outbound vendor payments of one company, bank journal and currency, sent as one pain.001."""

    _name = "treasury.payment.batch"
    _description = "Treasury payment batch"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default=lambda self: self.env._("New"))
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 default=lambda self: self.env.company)
    journal_id = fields.Many2one("account.journal", required=True, check_company=True,
                                 domain="[('type', '=', 'bank')]", tracking=True)
    currency_id = fields.Many2one("res.currency", required=True, tracking=True)
    backend_id = fields.Many2one("finance.backend", string="Treasury backend", check_company=True,
                                 domain="[('kind', '=', 'treasury')]", tracking=True,
                                 default=lambda self: self.env["finance.backend"]._treasury_backends(self.env.company)[:1])
    payment_ids = fields.One2many("account.payment", "treasury_batch_id", string="Payments")
    payment_count = fields.Integer(compute="_compute_payment_count")
    amount_total = fields.Monetary(compute="_compute_amounts", store=True, currency_field="currency_id")
    amount_company = fields.Monetary(compute="_compute_amounts", store=True, currency_field="company_currency_id",
                                     string="Total (company currency)")
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company currency")
    state = fields.Selection(STATES, default="draft", required=True, readonly=True, copy=False, tracking=True,
                             index=True)
    approvals_required = fields.Integer(readonly=True, copy=False)
    approval_ids = fields.One2many("treasury.payment.batch.approval", "batch_id", readonly=True, copy=False)
    approval_count = fields.Integer(compute="_compute_approval_count")
    preparer_ids = fields.One2many("treasury.payment.batch.preparer", "batch_id", readonly=True, copy=False,
                                   string="Prepared by")
    msg_id = fields.Char(string="MsgId", readonly=True, copy=False, index="btree_not_null")
    pain_version = fields.Char(readonly=True, copy=False)
    attachment_id = fields.Many2one("ir.attachment", string="pain.001 file", readonly=True, copy=False)
    treasury_ref = fields.Char(string="Treasury batch id", readonly=True, copy=False, index="btree_not_null")
    sent_at = fields.Datetime(readonly=True, copy=False)
    resend_count = fields.Integer(readonly=True, copy=False)
    last_report_msg_id = fields.Char(string="Last status report", readonly=True, copy=False)
    last_report_at = fields.Datetime(readonly=True, copy=False)
    transmission_in_doubt = fields.Boolean(
        readonly=True, copy=False,
        help="A transmission gave up without an answer that settles it: the platform may hold this batch, so "
             "it cannot be cancelled here. Retry the transmission (same MsgId: the platform answers with the "
             "batch it has).")
    release_issues = fields.Text(compute="_compute_release_issues",
                                 help="What blocks the release (data of beneficiaries, debtor account, amounts)")
    rejected_count = fields.Integer(compute="_compute_amounts", store=True)

    _sql_constraints = [("msg_id_unique", "UNIQUE(msg_id)", "A MsgId identifies one batch.")]

    # ------------------------------------------------------------------ computes
    @api.depends("payment_ids.amount", "payment_ids.amount_company_currency_signed", "payment_ids.treasury_status")
    def _compute_amounts(self):
        for batch in self:
            batch.amount_total = sum(batch.payment_ids.mapped("amount"))
            batch.amount_company = sum(abs(a) for a in batch.payment_ids.mapped("amount_company_currency_signed"))
            batch.rejected_count = len(batch.payment_ids.filtered(lambda p: p.treasury_status == "RJCT"))

    @api.depends("payment_ids")
    def _compute_payment_count(self):
        for batch in self:
            batch.payment_count = len(batch.payment_ids)

    @api.depends("approval_ids")
    def _compute_approval_count(self):
        for batch in self:
            batch.approval_count = len(batch.approval_ids)

    @api.depends("payment_ids", "journal_id")
    def _compute_release_issues(self):
        for batch in self:
            batch.release_issues = "\n".join(batch._release_data_issues()) or False

    @api.model_create_multi
    def create(self, vals_list):
        self._check_create_vals(vals_list)
        for vals in vals_list:
            if vals.get("name", self.env._("New")) == self.env._("New"):
                vals["name"] = self.env["ir.sequence"].next_by_code("treasury.payment.batch") or self.env._("New")
        batches = super().create(vals_list)
        batches._add_preparer()
        return batches

    # ------------------------------------------------------------------ constraints
    @api.constrains("payment_ids", "journal_id", "currency_id", "company_id")
    def _check_payments(self):
        for batch in self:
            for payment in batch.payment_ids:
                if payment.payment_type != "outbound" or payment.partner_type != "supplier":
                    raise ValidationError(self.env._("%s is not an outbound vendor payment.", payment.display_name))
                if (payment.company_id != batch.company_id or payment.journal_id != batch.journal_id
                        or payment.currency_id != batch.currency_id):
                    raise ValidationError(self.env._("%(pay)s does not share the batch's company, bank journal and "
                                            "currency (%(journal)s, %(currency)s).", pay=payment.display_name,
                                            journal=batch.journal_id.display_name, currency=batch.currency_id.name))

    def _check_create_vals(self, vals_list):
        for vals in vals_list:
            protection.check(self, {k for k in vals if k != "company_id"}, PROTECTED_FIELDS)

    def write(self, vals):
        protection.check(self, vals, PROTECTED_FIELDS)
        if {"payment_ids", "journal_id", "currency_id"}.intersection(vals) and any(b.state != "draft" for b in self):
            raise UserError(self.env._("Payments, bank journal and currency change only while the batch is a draft."))
        if "backend_id" in vals and any(b.state in REPORTED_STATES for b in self):
            raise UserError(self.env._("A released batch stays with the treasury backend it was sent to."))
        content = BATCH_CONTENT_FIELDS.intersection(vals)
        if content and not protection.is_internal(self):
            self._add_preparer()
        old_payments = {b.id: b.payment_ids for b in self} if "payment_ids" in vals else {}
        result = super().write(vals)
        if content and not protection.is_internal(self):
            self._content_changed(", ".join(sorted(content)))
            for batch in self.filtered(lambda b: b.id in old_payments):
                # payments taken out of the batch this way: their writer prepared that change too
                (old_payments[batch.id] - batch.payment_ids).treasury_batch_id._add_preparer()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        if any(b.state not in ("draft", "cancelled") for b in self):
            raise UserError(self.env._("Only draft or cancelled batches can be deleted."))

    # ------------------------------------------------------------------ segregation of duties
    def _add_preparer(self, user_id=None):
        """The acting user (``env.uid``) prepared these batches' content."""
        self.env["treasury.payment.batch.preparer"].sudo()._record(self, user_id or self.env.uid)

    def _content_changed(self, what):
        """Content changed after submission: the approvals given so far are void, back to draft."""
        for batch in self.filtered(lambda b: b.state in ("to_approve", "approved")):
            dropped = len(batch.approval_ids)
            # approvals are rows only the workflow writes; the caller may not delete them itself
            batch.approval_ids.sudo().unlink()
            batch._transition("reset", description="Batch %s: content changed after submission (%s); %d approval(s) "
                                                   "dropped" % (batch.name, what, dropped),
                              data={"changed": what, "approvals_dropped": dropped})

    def _content_digest(self):
        """sha256 of what approvers approve: per payment partner, destination IBAN, amount, currency, date
        (plus the batch's debtor journal and currency)."""
        self.ensure_one()
        lines = []
        for payment in self.payment_ids.sorted("id"):
            bank = payment.partner_bank_id
            lines.append([payment.id, payment.partner_id.id, (bank.sanitized_acc_number or bank.acc_number or ""),
                          bank.id, str(decimal.Decimal(str(payment.currency_id.round(payment.amount)))),
                          payment.currency_id.name, payment.date.isoformat() if payment.date else None])
        content = {"journal": self.journal_id.id, "currency": self.currency_id.name, "payments": lines}
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def _check_not_preparer(self, action):
        user = self.env.user
        for batch in self:
            if batch.create_uid == user or user in batch.preparer_ids.user_id:
                raise AccessError(self.env._("Segregation of duties: %(user)s prepared %(batch)s (created it or changed its "
                                    "content) and cannot %(action)s it.", user=user.name, batch=batch.name,
                                    action=action))

    # ------------------------------------------------------------------ state machine
    def _transition(self, name, new_state=None, description=None, data=None):
        allowed, target = TRANSITIONS[name]
        target = new_state or target
        for batch in self:
            if batch.state not in allowed:
                raise UserError(self.env._("%(batch)s is %(state)s: it cannot be %(action)s.", batch=batch.name,
                                  state=dict(STATES)[batch.state], action=name))
            old = batch.state
            protection.internal(batch.sudo()).write({"state": target})
            self.env["finance.audit.log"]._append(
                "treasury.batch.%s" % name, batch, description or "Batch %s: %s -> %s" % (batch.name, old, target),
                data=dict(data or {}, old_state=old, new_state=target, amount=str(batch.amount_total),
                          currency=batch.currency_id.name))

    @guarded(PREPARER)
    def action_submit(self):
        for batch in self:
            if not batch.payment_ids:
                raise UserError(self.env._("%s has no payments.", batch.name))
            bad = batch.payment_ids.filtered(lambda p: not p._treasury_sendable())
            if bad:
                raise UserError(self.env._("Only confirmed payments not yet sent to the bank can be batched: %s",
                                  ", ".join(bad.mapped("display_name"))))
            protection.internal(batch).approvals_required = self.env["treasury.approval.rule"]._approvers_for(
                batch.company_id, batch.amount_company)
            batch._transition("submit", data={"approvals_required": batch.approvals_required})
        return True

    @guarded(APPROVER)
    def action_approve(self):
        user = self.env.user
        for batch in self:
            if batch.state != "to_approve":
                raise UserError(self.env._("%s is not waiting for approval.", batch.name))
            batch._check_not_preparer(self.env._("approve"))
            if user in batch.approval_ids.user_id:
                raise UserError(self.env._("Segregation of duties: %s has already approved this batch; another person "
                                  "must give the next approval.", user.name))
            digest = batch._content_digest()
            # approvals are rows written by the workflow (who = env.uid), never by the caller
            self.env["treasury.payment.batch.approval"].sudo().create(
                {"batch_id": batch.id, "user_id": user.id, "digest": digest})
            batch.invalidate_recordset(["approval_ids"])
            count = len(batch.approval_ids)
            self.env["finance.audit.log"]._append(
                "treasury.batch.approval", batch, "%s approved %s (%d of %d)" % (user.name, batch.name, count,
                                                                                   batch.approvals_required),
                data={"approval": count, "required": batch.approvals_required, "digest": digest})
            if count >= batch.approvals_required:
                batch._transition("approve")
        return True

    @guarded(PREPARER)
    def action_reset_to_draft(self):
        for batch in self:
            batch._transition("reset")
            # approvals are rows only the workflow writes
            batch.approval_ids.sudo().unlink()
        return True

    @guarded(PREPARER)
    def action_cancel(self):
        """Give the payments back. A sent batch can be cancelled only while the platform never took it
        (e.g. its file was refused): once it has a treasury batch id, the bank decides."""
        for batch in self:
            if batch.treasury_ref:
                raise UserError(self.env._("%(batch)s is at the treasury platform (%(ref)s): it cannot be cancelled here.",
                                  batch=batch.name, ref=batch.treasury_ref))
        # a lost answer: the platform may hold the batch, and its payments would be paid twice
        for batch in self.env["treasury.connector"]._transmission_in_doubt(self.sudo()):
            raise UserError(self.env._("%(batch)s may already be at the treasury platform (the answer to its transmission "
                              "was lost; it is being sent again under MsgId %(msg)s to find out): it cannot be "
                              "cancelled here.", batch=batch.name, msg=batch.msg_id))
        self._transition("cancel")
        # the workflow gives the payments back (internal: not a content change by the caller)
        protection.internal(self.payment_ids.sudo()).write({"treasury_batch_id": False, "is_sent": False})
        return True

    # ------------------------------------------------------------------ release
    def _release_data_issues(self):
        """Blocking problems of the batch's data, one readable line each."""
        self.ensure_one()
        issues = []
        debtor = self.journal_id.bank_account_id
        if not debtor:
            issues.append(self.env._("Bank journal %s has no bank account.", self.journal_id.display_name))
        elif not stdnum_iban.is_valid(debtor.acc_number or ""):
            issues.append(self.env._("The bank account of journal %s is not a valid IBAN.", self.journal_id.display_name))
        if not self.payment_ids:
            issues.append(self.env._("The batch has no payments."))
        for payment in self.payment_ids:
            who = "%s (%s)" % (payment.partner_id.display_name, payment.name or payment.display_name)
            if payment.currency_id.compare_amounts(payment.amount, 0.0) <= 0:
                issues.append(self.env._("%s: the amount must be greater than zero.", who))
            bank = payment.partner_bank_id
            if not bank:
                issues.append(self.env._("%s: no recipient bank account.", who))
            else:
                if not bank.allow_out_payment:
                    issues.append(self.env._("%(who)s: bank account %(acc)s is not trusted for outgoing payments (Invoicing "
                                    "> Customers/Vendors > bank account > Send Money).", who=who, acc=bank.acc_number))
                if not stdnum_iban.is_valid(bank.acc_number or ""):
                    issues.append(self.env._("%(who)s: %(acc)s is not a valid IBAN.", who=who, acc=bank.acc_number))
                bic = bank.bank_id.bic
                if bic and not stdnum_bic.is_valid(bic):
                    issues.append(self.env._("%(who)s: %(bic)s is not a valid BIC.", who=who, bic=bic))
                if not bic and payment.currency_id.name != "EUR":
                    issues.append(self.env._("%s: a BIC is required outside SEPA (non-EUR payment).", who))
            partner = payment.partner_id
            if not partner.city or not partner.country_id:
                issues.append(self.env._("%s: the postal address needs at least a town and a country.", who))
        return issues

    def _release_issues(self):
        """Data issues plus the payment-block hook (sanctions screening and the like)."""
        issues = self._release_data_issues()
        try:
            self.payment_ids.partner_id._finance_check_payable()
        except UserError as exc:
            issues.append(str(exc.args[0]))
        return issues

    def _pain001_data(self):
        self.ensure_one()
        company, debtor_bank = self.company_id, self.journal_id.bank_account_id
        today = fields.Date.context_today(self)
        payments = []
        for payment in self.payment_ids.sorted("id"):
            partner, bank = payment.partner_id, payment.partner_bank_id
            bills = payment._treasury_bills()
            refs = [r for r in bills.mapped(lambda b: b.ref or b.name) if r]
            structured = [r for r in bills.mapped("payment_reference") if r and iso11649.is_valid(r)]
            payments.append({
                "end_to_end_id": payment.treasury_end_to_end_id,
                "amount": decimal.Decimal(str(payment.currency_id.round(payment.amount))),
                "currency": payment.currency_id.name,
                "execution_date": max(payment.date or today, today),
                "creditor": {"name": partner.name, "iban": bank.acc_number, "bic": bank.bank_id.bic,
                             "street": partner.street, "zip": partner.zip, "town": partner.city,
                             "country": partner.country_id.code},
                "remittance": ", ".join(refs) or payment.memo or payment.name,
                "creditor_reference": structured[0] if len(structured) == 1 and len(bills) == 1 else None,
            })
        debtor = {"name": company.name, "iban": debtor_bank.acc_number, "bic": debtor_bank.bank_id.bic,
                  "street": company.street, "zip": company.zip, "town": company.city,
                  "country": company.country_id.code}
        return debtor, payments

    @guarded(APPROVER)
    def action_release(self):
        for batch in self:
            if batch.state != "approved":
                raise UserError(self.env._("%s must be approved before it is released.", batch.name))
            batch._check_not_preparer(self.env._("release"))
            if not batch.backend_id:
                raise UserError(self.env._("%s has no treasury backend.", batch.name))
            issues = batch._release_issues()
            digest = batch._content_digest()
            if len(batch.approval_ids) < batch.approvals_required or any(
                    a.digest != digest for a in batch.approval_ids):
                issues.append(self.env._("The content of the batch is not what was approved (payments, amounts, partners, "
                                "destination accounts or dates changed since): it must be approved again."))
            if issues:
                # kept even though the refusal rolls the transaction back: who tried, and why not
                self.env["finance.audit.log"]._append(
                    "treasury.batch.release_refused", batch, "%s: release refused" % batch.name,
                    data={"issues": issues, "user": self.env.user.login}, autonomous=True)
                raise UserError(self.env._("%(batch)s cannot be released:\n%(issues)s", batch=batch.name,
                                  issues="\n".join("- %s" % i for i in issues)))
            batch.payment_ids._treasury_ensure_end_to_end_id()
            msg_id = batch.msg_id or uuid.uuid4().hex
            # the backend's settings are the suite's configuration, not the releaser's: approvers need not
            # be able to read backends (they are finance sync users, but a record rule may still hide it)
            version = batch.backend_id.sudo().treasury_pain_version
            debtor, payments = batch._pain001_data()
            try:
                content = pain001.build(msg_id, datetime.datetime.now(), batch.company_id.name, debtor, payments,
                                        version=version)
            except (pain001.Pain001Error, xsd.SchemaError) as exc:
                raise UserError(self.env._("The payment file of %(batch)s is not valid: %(error)s", batch=batch.name,
                                  error=exc)) from None
            pmt_inf_ids = pain001.pmt_inf_ids(payments, msg_id)
            for payment in protection.internal(batch.payment_ids):
                payment.treasury_pmt_inf_id = pmt_inf_ids[payment.treasury_end_to_end_id]
            attachment = self.env["ir.attachment"].create({
                "name": "%s-%s.xml" % (batch.name.replace("/", "-"), version), "raw": content,
                "mimetype": "application/xml", "res_model": batch._name, "res_id": batch.id})
            protection.internal(batch).write({"msg_id": msg_id, "pain_version": version, "attachment_id": attachment.id})
            batch._transition("release", data={"msg_id": msg_id, "version": version,
                                               "payments": len(payments)})
            # the workflow marks the payments sent (internal: not a content change)
            protection.internal(batch.payment_ids.sudo()).write({"is_sent": True})
            batch._enqueue_transmission()
        return True

    def _enqueue_transmission(self):
        self.ensure_one()
        key = "transmit:%s" % self.msg_id if not self.resend_count else "transmit:%s:%d" % (self.msg_id, self.resend_count)
        return self.backend_id._enqueue(
            "treasury.transmit", payload={"batch_id": self.id}, key=key,
            summary="Payment batch %s - %d payments - %s %s" % (self.name, len(self.payment_ids),
                                                                 self.amount_total, self.currency_id.name))

    @guarded(APPROVER)
    def action_resend(self):
        """Send the same document again (same MsgId): the platform answers with the batch it has."""
        for batch in self:
            if batch.state not in REPORTED_STATES or not batch.attachment_id:
                raise UserError(self.env._("Only a released batch can be sent again."))
            protection.internal(batch).resend_count += 1
            self.env["finance.audit.log"]._append("treasury.batch.resend", batch, "Batch %s sent again" % batch.name,
                                                  data={"msg_id": batch.msg_id, "resend": batch.resend_count})
            batch._enqueue_transmission()
        return True

    @guarded(PREPARER)
    def action_poll_status(self):
        """"Fetch status": queue a status poll of each sent batch, and say how many were queued."""
        jobs = self.env["finance.sync.job"]
        for batch in self.filtered("treasury_ref"):
            jobs |= self.env["treasury.connector"]._enqueue_status_poll(batch, dedup=False)
        # sudo: the notification names the backends, which a preparer may not read
        return self.sudo().backend_id._notify_queued(jobs)

    # ------------------------------------------------------------------ status reports
    def _treasury_document(self):
        self.ensure_one()
        return base64.b64decode(self.attachment_id.sudo().datas or b"")

    def _apply_status_report(self, content):
        """Apply one pain.002 to this batch. Raises BusinessError (nothing changed) when the
        report cannot be read, is for another batch or names a transaction we never sent."""
        self.ensure_one()
        try:
            report = pain002.parse(content)
        except pain002.Pain002Error as exc:
            raise BusinessError("Status report for %s rejected: %s" % (self.name, exc), code="pain002_invalid",
                                params={"batch": self.name}) from None
        if report["orgnl_msg_id"] and report["orgnl_msg_id"] != self.msg_id:
            raise BusinessError("Status report %s is for MsgId %s, not %s (%s)" % (
                report["msg_id"], report["orgnl_msg_id"], self.msg_id, self.name), code="pain002_other_batch",
                params={"batch": self.name, "orgnl_msg_id": report["orgnl_msg_id"]})
        by_e2e = {p.treasury_end_to_end_id: p for p in self.payment_ids}
        unknown = sorted({t["end_to_end_id"] or "" for t in report["transactions"]} - set(by_e2e))
        if unknown:
            # the known transactions' statuses still apply; the unknown ids go to a person, once
            # (the key names the batch and the ids: a later poll of the same report queues nothing new)
            key = "unknown_e2e:%s:%s" % (self.id, hashlib.sha256(",".join(unknown).encode()).hexdigest()[:24])
            self.backend_id._enqueue("treasury.unknown_e2e", payload={
                "batch_id": self.id, "report": report["msg_id"], "end_to_end_ids": unknown[:50]}, key=key,
                summary="Status report %s of %s names %d EndToEndId(s) never sent" % (
                    report["msg_id"], self.name, len(unknown)))
        statuses = pain002.effective_statuses(report, list(by_e2e),
                                              {e: p.treasury_pmt_inf_id for e, p in by_e2e.items()})
        changed = {}
        for e2e, (status, reasons) in statuses.items():
            payment = by_e2e[e2e]
            if not pain002.moves_forward(payment.treasury_status, status):
                continue
            changed[status] = changed.get(status, 0) + 1
            if status == "RJCT":
                reason = reasons[0] if reasons else {"code": None, "info": None}
                payment._treasury_reject(reason["code"], reason["info"] or pain002.REASON_NAMES.get(reason["code"]))
                self.env["treasury.connector"]._enqueue_rejection(payment)
            elif status == "ACSC":
                payment._treasury_settle()
            else:
                protection.internal(payment).treasury_status = status
        protection.internal(self).write({"last_report_msg_id": report["msg_id"], "last_report_at": fields.Datetime.now()})
        self.env["finance.audit.log"]._append(
            "treasury.batch.status", self, "Status report %s applied to %s" % (report["msg_id"], self.name),
            data={"group_status": report["group_status"], "changed": changed})
        self._sync_state_from_payments()
        return changed

    def _sync_state_from_payments(self):
        """Batch state follows its lines."""
        for batch in self.filtered(lambda b: b.state in TRANSITIONS["report"][0]):
            statuses = batch.payment_ids.mapped("treasury_status")
            if not statuses or not all(statuses):
                continue
            if all(s == "RJCT" for s in statuses):
                target = "rejected"
            elif all(s in ("ACSC", "RJCT") for s in statuses):
                target = "settled"
            elif "RJCT" in statuses:
                target = "partially_accepted"
            else:
                target = "accepted"
            if target != batch.state:
                batch._transition("report", target)

    # ------------------------------------------------------------------ helpers
    @guarded(PREPARER)
    def action_view_payments(self):
        return self.payment_ids._get_records_action(name=self.env._("Payments"))
