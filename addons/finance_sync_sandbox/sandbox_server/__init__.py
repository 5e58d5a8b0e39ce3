"""Standalone simulators of the suite's external platforms (no Odoo import here).

Run: ``python3 -m sandbox_server --port 8090`` from the addon directory; in tests use
:class:`sandbox_server.testing.SandboxServer`.
"""
from .app import SandboxApp, create_app

__all__ = ["SandboxApp", "create_app"]
