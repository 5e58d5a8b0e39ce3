import base64
import binascii

from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.finance_sync_core.guard import guarded

from ..engine.records import ListParseError


class ScreeningListUpload(models.TransientModel):
    """Load a new version of a list from uploaded file(s); a bad file changes nothing."""

    _name = "screening.list.upload"
    _description = "Upload Sanctions List File"

    list_id = fields.Many2one("screening.list", required=True, ondelete="cascade")
    kind = fields.Selection(related="list_id.kind")
    file = fields.Binary(string="List file", required=True, help="OFAC CSV: sdn.csv")
    filename = fields.Char()
    file_alt = fields.Binary(string="Aliases (alt.csv)")
    filename_alt = fields.Char()
    file_add = fields.Binary(string="Addresses (add.csv)")
    filename_add = fields.Char()

    def _files(self):
        self.ensure_one()
        try:
            main = base64.b64decode(self.file or b"")
            files = {"sdn" if self.kind == "ofac_csv" else "main": main}
            if self.kind == "ofac_csv":
                if self.file_alt:
                    files["alt"] = base64.b64decode(self.file_alt)
                if self.file_add:
                    files["add"] = base64.b64decode(self.file_add)
        except (binascii.Error, ValueError) as exc:
            raise UserError(self.env._("The upload could not be decoded.")) from exc
        return files

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_load(self):
        self.ensure_one()
        try:
            version = self.list_id._load_files(self._files(), origin="upload")
        except ListParseError as exc:
            raise UserError(self.env._("The file was refused: %s\nThe current version of %s stays in use.",
                              exc.message, self.list_id.name)) from exc
        return {"type": "ir.actions.act_window", "res_model": "screening.list.version", "res_id": version.id,
                "view_mode": "form", "target": "current"}
