"""Counterparts of a manual pick (the bank.reconcile.pick wizard): the person chose the items and
how much of each the line pays, and where a difference goes. The rest of the reconciliation
(suspense entry replaced, items reconciled, partner set, IBAN learned) is the shared batch path."""
from odoo import api, models

# context key carrying a pick's plan: {"allocations": {item id: amount paid}, "writeoff": amount,
# "writeoff_account_id": id, "writeoff_label": text}; set only by the wizard after its checks
MANUAL_PLAN = "bank_manual_pick_plan"


class BankReconcile(models.AbstractModel):
    _inherit = "bank.reconcile"

    @api.model
    def _counterparts(self, st_line, items, proposal):
        plan = self.env.context.get(MANUAL_PLAN)
        if not plan or proposal.rule != "manual_pick":
            return super()._counterparts(st_line, items, proposal)
        currency = st_line.company_id.currency_id
        vals = []
        for item in items:   # in the items' order: the batch pairs counterpart i with item i
            allocated = plan["allocations"][item.id]
            vals.append({"name": st_line.payment_ref or item.move_id.name, "account_id": item.account_id.id,
                         "partner_id": item.partner_id.id, "currency_id": currency.id,
                         "amount_currency": -allocated, "balance": -allocated})
        writeoff = currency.round(plan.get("writeoff") or 0.0)
        if not currency.is_zero(writeoff):
            vals.append({"name": plan["writeoff_label"], "account_id": plan["writeoff_account_id"],
                         "partner_id": items[:1].partner_id.id, "currency_id": currency.id,
                         "amount_currency": -writeoff, "balance": -writeoff})
        return vals, writeoff
