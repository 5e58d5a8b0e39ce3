#!/usr/bin/env bash
# Entry point of the odoo-tests service of docker-compose.yml: runs scripts/test (exactly what
# CI runs) on a writable copy of the repository, so that the read-only mount of your checkout
# stays untouched (pytest, hypothesis and Odoo write caches next to the code and the
# container's user cannot write there). Arguments go to scripts/test, hence to pytest.
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/finance-sync.XXXXXX)"
tar -C "$SRC" --exclude=./.git --exclude=./.hypothesis --exclude=./.benchmarks \
    --exclude=./.pytest_cache --exclude=__pycache__ -cf - . | tar -C "$WORK" -xf -
cd "$WORK"
exec scripts/test "$@"
