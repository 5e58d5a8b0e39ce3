from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _get_next_sequence_format(self):
        """Bulk statement import: the moves of the statement lines created in one batch take their
        names from one sequence look-up per journal and month instead of one query per line.

        Only under the ``bank_feed_sequence_formats`` context (a dict the import passes for one
        create call). The numbers themselves still come from Odoo's locked increment: the first
        name of a batch takes the lock on the sequence, the following ones count on from Odoo's
        transactional sequence cache, and the unique index on the name stays the guarantee."""
        formats = self.env.context.get("bank_feed_sequence_formats")
        if formats is None or not self.statement_line_id or self.move_type != "entry" or not self.date:
            return super()._get_next_sequence_format()
        key = (self.journal_id.id, self.date.year, self.date.month)
        if key not in formats:
            formats[key] = super()._get_next_sequence_format()
        format_string, format_values = formats[key]
        return format_string, dict(format_values)
