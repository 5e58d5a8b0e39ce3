from odoo import models

# what makes an account a trusted destination of outgoing payments
TRUST_FIELDS = ("acc_number", "allow_out_payment", "partner_id")


class ResPartnerBank(models.Model):
    _inherit = "res.partner.bank"

    def write(self, vals):
        touched = [f for f in TRUST_FIELDS if f in vals]
        if not touched:
            return super().write(vals)
        before = {b.id: {f: b[f].id if f == "partner_id" else b[f] for f in TRUST_FIELDS} for b in self}
        result = super().write(vals)
        Audit = self.env["finance.audit.log"]
        for bank in self:
            old = before[bank.id]
            new = {f: bank[f].id if f == "partner_id" else bank[f] for f in TRUST_FIELDS}
            diff = [f for f in touched if old[f] != new[f]]
            if not diff or not (old["allow_out_payment"] or new["allow_out_payment"]):
                continue
            # a trusted destination account changed: audited (the values are the auditor's evidence)
            Audit._append("treasury.bank_account.trusted_change", bank,
                          "Trusted bank account %s of partner %s changed: %s" % (
                              bank.id, bank.partner_id.id, ", ".join(diff)),
                          data={"fields": diff, "old": {f: old[f] for f in diff}, "new": {f: new[f] for f in diff}})
        changed = [b.id for b in self if any(before[b.id][f] != (b[f].id if f == "partner_id" else b[f])
                                             for f in touched)]
        if changed:
            # approvals given for payments to these accounts are void (the digest would refuse them anyway)
            payments = self.env["account.payment"].sudo().search([
                ("partner_bank_id", "in", changed), ("treasury_batch_id.state", "in", ("to_approve", "approved"))])
            batches = payments.treasury_batch_id
            if batches:
                batches._add_preparer()
                batches._content_changed("destination bank account")
        return result
