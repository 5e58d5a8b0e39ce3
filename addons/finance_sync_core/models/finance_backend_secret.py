import os

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import config

from ..engine import crypto


class FinanceBackendSecret(models.Model):
    """Encrypted backend secrets. No access rights for anyone: only code running as sudo
    (the backend's write-only fields and adapters) reads or writes them, so RPC never sees
    even the ciphertext."""

    _name = "finance.backend.secret"
    _description = "Finance Sync Backend Secret (encrypted)"
    _log_access = False

    backend_id = fields.Many2one("finance.backend", required=True, ondelete="cascade", index=True)
    name = fields.Char(required=True)
    ciphertext = fields.Text(required=True)
    origin = fields.Char(help="Origins (scheme://host:port) of the backend's URLs when the secret was entered: "
                              "the secret is only handed out while they are unchanged")

    _sql_constraints = [
        ("backend_name_unique", "UNIQUE(backend_id, name)", "One value per secret and backend."),
    ]

    @api.model
    def _keyring(self):
        try:
            return crypto.keyring(config.get("finance_sync_encryption_key") or os.environ.get(crypto.ENV_VAR))
        except crypto.KeyMissing as exc:
            raise UserError(str(exc)) from None

    @api.model
    def _store(self, backend, name, value):
        token = crypto.encrypt(self._keyring(), value)
        origin = backend._secret_origin()
        existing = self.search([("backend_id", "=", backend.id), ("name", "=", name)])
        if existing:
            existing.write({"ciphertext": token, "origin": origin})
        else:
            self.create({"backend_id": backend.id, "name": name, "ciphertext": token, "origin": origin})

    @api.model
    def _load(self, backend, name):
        rec = self.search([("backend_id", "=", backend.id), ("name", "=", name)], limit=1)
        if not rec:
            return None
        if (rec.origin or "") != backend._secret_origin():
            # the backend's URLs moved without going through write() (SQL, a migration): never
            # send the secret to a host it was not entered for
            return None
        try:
            return crypto.decrypt(self._keyring(), rec.ciphertext)
        except crypto.DecryptionFailed as exc:
            raise UserError(str(exc)) from None

    @api.model
    def _rotate_all(self):
        """Re-encrypt every secret with the first configured key (after adding a new key in front)."""
        ring = self._keyring()
        records = self.search([])
        for rec in records:
            try:
                rec.ciphertext = crypto.rotate(ring, rec.ciphertext)
            except crypto.DecryptionFailed as exc:
                raise UserError(str(exc)) from None
        self.env["finance.audit.log"]._append("secrets.rotate", None, "%d secret(s) re-encrypted" % len(records))
        return len(records)
