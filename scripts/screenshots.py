#!/usr/bin/env python3
"""Screenshots of the main screens from a running Odoo (e.g. started by scripts/run).

    python3 scripts/screenshots.py --url http://127.0.0.1:8069 --db finance_sync_demo \
        --login admin --password admin --out docs/img

Logs in over JSON-RPC, drives headless Chromium through the DevTools protocol
(websocket-client) with that session, and writes one PNG per screen.
"""
import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import requests
import websocket

# screens shown grouped: the name of a "Group By" option of their search view
GROUP_BY = {"exception-queue": "Error code"}

SCREENS = {
    "exception-queue": "/odoo/action-finance_sync_core.finance_sync_job_action_exceptions",
    "exception-form": None,  # first exception of the queue, opened from the list
    "backends": "/odoo/action-finance_sync_core.finance_backend_action",
    "mappings": "/odoo/action-finance_sync_core.finance_mapping_action",
    "audit-log": "/odoo/action-finance_sync_core.finance_audit_log_action",
    "dashboard": "/odoo/action-finance_sync_core.finance_sync_dashboard_action",
    "expense-sheets": "/odoo/action-expense_connector.hr_expense_sheet_action_platform",
    "payment-batches": "/odoo/action-treasury_connector.treasury_payment_batch_action",
    "screening-cases": "/odoo/action-compliance_screening.screening_case_action",
    "bank-lines": "/odoo/action-bank_reconcile_feed.account_bank_statement_line_action",
    "bank-rules": "/odoo/action-bank_reconcile_feed.bank_reconcile_rule_action",
    # a dialog (target new): opened over the exception queue by the web client's action service
    "lock-dates": ("dialog", "finance_sync_core.finance_lock_dates_action"),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, width=1440, height=900):
        self.profile = tempfile.mkdtemp(prefix="fs-shots-")
        port = free_port()
        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not exe:
            raise SystemExit("Chromium is not installed (Debian package 'chromium').")
        self.proc = subprocess.Popen([
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=%s" % self.profile, "--remote-debugging-port=%d" % port,
            "--window-size=%d,%d" % (width, height), "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _i in range(100):
            try:
                targets = requests.get("http://127.0.0.1:%d/json" % port, timeout=1).json()
                page = next(t for t in targets if t["type"] == "page")
                break
            except (requests.RequestException, StopIteration, ValueError):
                time.sleep(0.1)
        else:
            raise SystemExit("Chromium did not start")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.seq = 0
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.seq:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, selector, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.evaluate("!!document.querySelector(%s)" % json.dumps(selector)):
                return True
            time.sleep(0.2)
        return False

    def shot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", default="finance_sync_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default="docs/img")
    args = parser.parse_args()
    session = requests.Session()
    reply = session.post(args.url + "/web/session/authenticate", json={
        "jsonrpc": "2.0", "params": {"db": args.db, "login": args.login, "password": args.password}}, timeout=30).json()
    if reply.get("error") or not reply.get("result", {}).get("uid"):
        raise SystemExit("login failed: %s" % reply.get("error"))
    browser = Browser()
    try:
        host = args.url.split("//", 1)[1].split(":")[0]
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=session.cookies["session_id"], domain=host, path="/")
        os.makedirs(args.out, exist_ok=True)
        for name, path in SCREENS.items():
            if path is None:
                # open a group of the queue shown just before (an unmapped category: Fix mapping)
                browser.evaluate("[...document.querySelectorAll('.o_group_header')]"
                                 ".filter(e => e.textContent.includes('unmapped_expense_category'))"
                                 ".slice(0, 1).forEach(e => e.click())")
                time.sleep(1.0)
                browser.evaluate("document.querySelector('.o_data_row td.o_data_cell') && "
                                 "document.querySelector('.o_data_row td.o_data_cell').click()")
                ok = browser.wait_for(".o_form_view .o_statusbar_status")
            elif isinstance(path, tuple):
                browser.call("Page.navigate", url=args.url + SCREENS["exception-queue"])
                browser.wait_for(".o_action_manager .o_view_controller")
                browser.evaluate("odoo.__WOWL_DEBUG__.root.env.services.action.doAction(%s)" % json.dumps(path[1]))
                ok = browser.wait_for(".modal .o_form_view")
            else:
                browser.call("Page.navigate", url=args.url + path)
                ok = browser.wait_for(".o_action_manager .o_view_controller")
            if name in GROUP_BY:
                browser.evaluate("document.querySelector('.o_searchview_dropdown_toggler').click()")
                time.sleep(0.8)
                browser.evaluate("[...document.querySelectorAll('.o_group_by_menu .o_menu_item')]"
                                 ".filter(e => e.textContent.trim() === %s).forEach(e => e.click())"
                                 % json.dumps(GROUP_BY[name]))
                time.sleep(0.8)
                browser.evaluate("document.querySelector('.o_searchview_dropdown_toggler').click()")
            time.sleep(1.5)  # let the view settle
            # a notification (e.g. "the page is out of date" after assets were rebuilt) hides the view
            browser.evaluate("document.querySelectorAll('.o_notification_close').forEach(b => b.click())")
            time.sleep(0.3)
            target = os.path.join(args.out, name + ".png")
            browser.shot(target)
            print("%s %s" % ("wrote" if ok else "wrote (view not confirmed)", target))
    finally:
        browser.close()


if __name__ == "__main__":
    main()
