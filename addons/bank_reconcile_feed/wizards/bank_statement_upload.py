from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.finance_sync_core.exceptions import BusinessError
from odoo.addons.finance_sync_core.guard import guarded

# who uploads statements: accountants, and accounting administrators (Community's admin has
# the Invoicing "Administrator" group but not "Show Full Accounting Features")
UPLOAD_GROUPS = ("account.group_account_user", "account.group_account_manager")


class BankStatementUpload(models.TransientModel):
    _name = "bank.statement.upload"
    _description = "Upload a camt.053/054 or MT940 statement file"

    backend_id = fields.Many2one("finance.backend", required=True, domain=[("kind", "=", "bank")],
                                 default=lambda self: self.env["finance.backend"].search(
                                     [("kind", "=", "bank"), ("company_id", "=", self.env.company.id)], limit=1))
    file = fields.Binary(required=True, attachment=False)
    filename = fields.Char()

    @guarded(*UPLOAD_GROUPS)
    def action_import(self):
        """Queue one import job per statement of the file; each routes to the journal of its IBAN."""
        self.ensure_one()
        # sudo: accountants upload statements without reading backends' configuration; the backend
        # must be a bank backend of one of the caller's companies
        backend = self.sudo().backend_id
        if backend.company_id not in self.env.companies or backend.kind != "bank":
            # the import below runs as superuser: only a bank backend of the user's companies
            raise AccessError(self.env._("You may upload statements only to a bank backend of your companies."))
        try:
            jobs = self.env["bank.feed.import"].sudo()._upload(backend, self.filename or "statement", self.file)
        except BusinessError as exc:
            raise UserError(exc.message if hasattr(exc, "message") else str(exc)) from None
        return {"type": "ir.actions.act_window", "res_model": "finance.sync.job", "view_mode": "list,form",
                "domain": [("id", "in", jobs.ids)], "name": self.env._("Statement imports")}
