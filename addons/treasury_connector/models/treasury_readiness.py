from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban

from odoo import api, fields, models

from odoo.addons.finance_sync_core.guard import guarded


class TreasuryReadiness(models.TransientModel):
    """Vendors with open bills or unsent payments whose data would block a payment batch."""

    _name = "treasury.readiness"
    _description = "Payment readiness of vendors"
    _order = "partner_id"

    partner_id = fields.Many2one("res.partner", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    issue = fields.Text(readonly=True)

    @api.model
    def _vendor_issues(self, partners):
        """{partner id: [issues]} for the given vendors."""
        blocked = partners._finance_payment_block_reasons()
        result = {}
        for partner in partners:
            issues = []
            banks = partner.commercial_partner_id.bank_ids | partner.bank_ids
            if not banks:
                issues.append(self.env._("no bank account"))
            for bank in banks:
                if not stdnum_iban.is_valid(bank.acc_number or ""):
                    issues.append(self.env._("%s is not a valid IBAN", bank.acc_number))
                if bank.bank_id.bic and not stdnum_bic.is_valid(bank.bank_id.bic):
                    issues.append(self.env._("%s is not a valid BIC", bank.bank_id.bic))
            if not partner.city or not partner.country_id:
                issues.append(self.env._("postal address without town or country"))
            if blocked.get(partner.id):
                issues.append(blocked[partner.id])
            if issues:
                result[partner.id] = issues
        return result

    @api.model
    @guarded("account.group_account_invoice")
    def action_open(self):
        moves = self.env["account.move"].search([
            ("company_id", "in", self.env.companies.ids), ("state", "=", "posted"), ("move_type", "=", "in_invoice"),
            ("payment_state", "in", ("not_paid", "partial"))])
        payments = self.env["account.payment"].search([
            ("company_id", "in", self.env.companies.ids), ("payment_type", "=", "outbound"),
            ("state", "in", ("in_process", "paid")), ("treasury_status", "=", False), ("is_sent", "=", False),
            ("treasury_batch_id", "=", False)])
        partners = moves.partner_id | payments.partner_id
        self.search([("create_uid", "=", self.env.uid)]).unlink()
        issues = self._vendor_issues(partners)
        self.create([{"partner_id": pid, "company_id": self.env.company.id, "issue": "; ".join(lines)}
                     for pid, lines in issues.items()])
        action = self.env["ir.actions.act_window"]._for_xml_id("treasury_connector.treasury_readiness_action")
        action["domain"] = [("create_uid", "=", self.env.uid)]
        return action
