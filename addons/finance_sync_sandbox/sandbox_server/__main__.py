"""Command line entry point: ``python3 -m sandbox_server --host 127.0.0.1 --port 8090``."""
import argparse
import json
import logging

from werkzeug.serving import run_simple

from . import config
from .app import SandboxApp
from .testing import QuietRequestHandler


def main(argv=None):
    parser = argparse.ArgumentParser(prog="sandbox_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--today", help="fixed 'today' (YYYY-MM-DD) for generated data")
    parser.add_argument("--xsd-dir", help="directory with pain.001 XSDs to validate batches")
    parser.add_argument("--settings", help="JSON object of extra settings")
    parser.add_argument("--quiet", action="store_true", help="log requests at DEBUG only")
    args = parser.parse_args(argv)
    settings = json.loads(args.settings) if args.settings else {}
    if args.today:
        settings["today"] = args.today
    if args.xsd_dir:
        settings["xsd_dir"] = args.xsd_dir
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = SandboxApp(seed=args.seed, **settings)
    logging.getLogger(__name__).info(
        "sandbox on http://%s:%s (expense, treasury, bank, screening prefixes: %s)",
        args.host, args.port, ", ".join(config.PLATFORM_PREFIXES.values()))
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False,
               request_handler=QuietRequestHandler if args.quiet else None)


if __name__ == "__main__":
    main()
