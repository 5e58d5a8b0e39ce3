#!/usr/bin/env bash
# Entry point of the odoo service of docker-compose.yml (image: scripts/docker/Dockerfile).
#  1. derives /var/lib/odoo/finance-sync/odoo.conf from the mounted odoo.conf.example
#     (database connection from PGHOST/PGPORT/PGUSER/PGPASSWORD, db_name, encryption key);
#  2. waits for PostgreSQL;
#  3. creates the database $FINANCE_SYNC_DB with demo data and the addons of
#     $FINANCE_SYNC_ADDONS when it does not exist, or installs the addons of that list it
#     does not have yet (so adding a connector to the list is enough);
#  4. runs the Odoo server with that configuration: $FINANCE_SYNC_WORKERS HTTP workers (0, the
#     default of docker-compose.yml: the single-process server, websockets on port 8069 too) and
#     the example's 2 cron threads; extra arguments go to the server.
# The encryption key comes from $FINANCE_SYNC_ENCRYPTION_KEY or, when that is empty, from
# /var/lib/odoo/finance-sync/encryption.key, generated on the first start and kept in the
# odoo-data volume (delete the volume and the stored secrets can no longer be read).
set -euo pipefail

EXAMPLE="${FINANCE_SYNC_CONFIG_EXAMPLE:-/etc/finance-sync/odoo.conf.example}"
STATE_DIR="/var/lib/odoo/finance-sync"
CONF="$STATE_DIR/odoo.conf"
KEY_FILE="$STATE_DIR/encryption.key"
DB="${FINANCE_SYNC_DB:-finance_sync_demo}"
ADDONS="${FINANCE_SYNC_ADDONS:?FINANCE_SYNC_ADDONS (comma-separated addons to install) is not set}"
WORKERS="${FINANCE_SYNC_WORKERS:-0}"
export PGHOST="${PGHOST:-db}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-odoo}" PGPASSWORD="${PGPASSWORD:-odoo}"
DERIVE=/usr/local/lib/finance-sync/derive_config.py

say() { echo "finance-sync: $*" >&2; }
die() { say "ERROR: $*"; exit 2; }

[ -r "$EXAMPLE" ] || die "$EXAMPLE is missing: mount odoo.conf.example there (see docker-compose.yml)."
case "$DB" in *[!A-Za-z0-9_]*|"") die "FINANCE_SYNC_DB must be letters, digits and underscores, got '$DB'." ;; esac
case "$WORKERS" in *[!0-9]*|"") die "FINANCE_SYNC_WORKERS must be a number (0: single-process server), got '$WORKERS'." ;; esac

# 1. configuration
umask 077
mkdir -p "$STATE_DIR"
KEY="${FINANCE_SYNC_ENCRYPTION_KEY:-}"
if [ -z "$KEY" ]; then
  if [ ! -s "$KEY_FILE" ]; then
    python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$KEY_FILE.tmp"
    mv "$KEY_FILE.tmp" "$KEY_FILE"
    say "generated an encryption key for backend secrets in $KEY_FILE (odoo-data volume)"
  fi
  KEY="$(cat "$KEY_FILE")"
fi
python3 "$DERIVE" "$EXAMPLE" "$CONF" \
  "db_host=$PGHOST" "db_port=$PGPORT" "db_user=$PGUSER" "db_password=$PGPASSWORD" \
  "db_name=$DB" "dbfilter=^$DB\$" "data_dir=/var/lib/odoo" \
  "workers=$WORKERS" "finance_sync_encryption_key=$KEY"

# 2. PostgreSQL (depends_on waits for the healthcheck; this covers restarts of db alone)
python3 - <<'PY' || die "PostgreSQL at $PGHOST:$PGPORT does not answer as $PGUSER."
import os, time, psycopg2
deadline = time.monotonic() + 60
while True:
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=5).close()
        break
    except psycopg2.OperationalError:
        if time.monotonic() > deadline:
            raise
        time.sleep(1)
PY

# 3. demo database: create it, or install the suite addons it does not have yet
TODO="$(FS_DB="$DB" FS_ADDONS="$ADDONS" python3 - <<'PY'
import os, psycopg2
db, wanted = os.environ["FS_DB"], [a.strip() for a in os.environ["FS_ADDONS"].split(",") if a.strip()]
with psycopg2.connect(dbname="postgres") as cnx, cnx.cursor() as cr:
    cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
    exists = cr.fetchone() is not None
cnx.close()
installed = set()
if exists:
    with psycopg2.connect(dbname=db) as cnx, cnx.cursor() as cr:
        cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
        if cr.fetchone()[0]:
            cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed'")
            installed = {row[0] for row in cr.fetchall()}
    cnx.close()
if "base" not in installed:
    print("new:" + ",".join(wanted))
else:
    print("add:" + ",".join(a for a in wanted if a not in installed))
PY
)" || die "cannot inspect the database $DB."
case "$TODO" in
  new:*)
    say "creating database $DB with demo data and ${TODO#new:}: Odoo's accounting and expenses, the suite, then the first demo syncs against the sandbox; about 5 to 10 minutes on 2 cores (Odoo's log below names each module as it loads; the web server starts when it is done)"
    START=$SECONDS
    odoo -c "$CONF" -d "$DB" -i "${TODO#new:}" --stop-after-init \
      || die "creating $DB failed (see the log above); fix the cause and run docker compose up again."
    say "database $DB created in $((SECONDS - START)) s" ;;
  add:?*)
    say "installing ${TODO#add:} into $DB"
    odoo -c "$CONF" -d "$DB" -i "${TODO#add:}" --stop-after-init \
      || die "installing ${TODO#add:} failed (see the log above)." ;;
esac

# 4. serve
if [ "$WORKERS" = 0 ]; then
  say "Odoo on port 8069 (single-process server: web client, websocket and job workers), database $DB (log in as admin / admin)"
else
  say "Odoo on port 8069 with $WORKERS HTTP workers, database $DB (log in as admin / admin); live updates need /websocket routed to port 8072 by a reverse proxy"
fi
exec odoo -c "$CONF" "$@"
