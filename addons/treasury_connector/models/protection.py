"""The suite's write guard (finance_sync_core.protection), used by the batch workflow."""
from odoo.addons.finance_sync_core.protection import check, internal, is_internal  # noqa: F401
