"""Backend secrets: encrypted at rest, write-only, absent from RPC reads and from logs."""
import logging

from cryptography.fernet import Fernet

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from .common import FinanceSyncCase

SECRET = "sk_live_7Hq2-very-secret"


@tagged("post_install", "-at_install")
class TestSecrets(FinanceSyncCase):
    def test_secret_is_encrypted_in_the_database_row(self):
        self.backend.write({"auth_method": "api_key", "api_key": SECRET})
        self.env.flush_all()
        self.env.cr.execute("SELECT name, ciphertext FROM finance_backend_secret WHERE backend_id = %s", (self.backend.id,))
        rows = self.env.cr.fetchall()
        self.assertEqual([r[0] for r in rows], ["api_key"])
        self.assertNotIn(SECRET, rows[0][1])
        self.env.cr.execute("SELECT row_to_json(b)::text FROM finance_backend b WHERE id = %s", (self.backend.id,))
        self.assertNotIn(SECRET, self.env.cr.fetchone()[0])
        self.assertEqual(self.backend._secret("api_key"), SECRET)

    def test_secret_is_not_returned_by_reads(self):
        self.backend.write({"client_secret": SECRET, "hmac_secret": SECRET + "h", "webhook_secret": SECRET + "w"})
        values = self.backend.read(["client_secret", "hmac_secret", "webhook_secret", "secrets_set"])[0]
        self.assertFalse(values["client_secret"] or values["hmac_secret"] or values["webhook_secret"])
        self.assertEqual(values["secrets_set"], "client_secret, hmac_secret, webhook_secret")
        self.assertNotIn(SECRET, str(self.backend.web_read({"client_secret": {}, "name": {}})))
        self.assertNotIn(SECRET, str(self.backend.search_read([("id", "=", self.backend.id)])))

    def test_nobody_reads_the_secret_table_over_rpc(self):
        self.backend.write({"api_key": SECRET})
        manager = self.env["res.users"].create({
            "name": "Sync manager", "login": "sync_manager_secret",
            "groups_id": [(6, 0, [self.env.ref("finance_sync_core.group_finance_sync_manager").id])],
        })
        with self.assertRaises(AccessError):
            self.env["finance.backend.secret"].with_user(manager).search_read([], ["ciphertext"])
        with self.assertRaises(AccessError):
            self.env["finance.backend.secret"].with_user(self.env.ref("base.user_admin")).search_read([], ["ciphertext"])

    def test_users_without_the_manager_group_cannot_see_secret_fields(self):
        user = self.env["res.users"].create({
            "name": "Sync user", "login": "sync_user_secret",
            "groups_id": [(6, 0, [self.env.ref("finance_sync_core.group_finance_sync_user").id])],
        })
        with self.assertRaises(AccessError):
            self.backend.with_user(user).read(["api_key"])

    def test_secrets_never_reach_the_log(self):
        with self.assertLogs("odoo.addons.finance_sync_core", level="DEBUG") as logs:
            logging.getLogger("odoo.addons.finance_sync_core").debug("marker")
            self.backend.write({"auth_method": "api_key", "api_key": SECRET, "name": "Renamed"})
            self.backend._secret("api_key")
        self.assertNotIn(SECRET, "\n".join(logs.output))
        entries = self.env["finance.audit.log"].search([("res_model", "=", "finance.backend"), ("res_id", "=", self.backend.id)])
        self.assertTrue(entries)
        self.assertNotIn(SECRET, str(entries.mapped("data")) + str(entries.mapped("description")))

    def test_key_rotation_keeps_secrets_readable(self):
        old_key = config.get("finance_sync_encryption_key")
        self.backend.write({"api_key": SECRET})
        new_key = Fernet.generate_key().decode()
        self.addCleanup(config.__setitem__, "finance_sync_encryption_key", old_key)
        config["finance_sync_encryption_key"] = "%s,%s" % (new_key, old_key)
        self.assertEqual(self.env["finance.backend.secret"]._rotate_all(), 1)
        config["finance_sync_encryption_key"] = new_key  # the old key can now be dropped
        self.assertEqual(self.backend._secret("api_key"), SECRET)

    @mute_logger("odoo.http")
    def test_missing_key_is_a_clear_error(self):
        old_key = config.get("finance_sync_encryption_key")
        self.addCleanup(config.__setitem__, "finance_sync_encryption_key", old_key)
        config["finance_sync_encryption_key"] = ""
        with self.assertRaisesRegex(Exception, "finance_sync_encryption_key"):
            self.backend.write({"api_key": SECRET})
