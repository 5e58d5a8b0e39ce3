# Shared by scripts/test, scripts/run and scripts/bench (source it; it defines functions only).
# Callers set ROOT, PYTHON and NAME (for messages) first.

fs_die() { echo "$NAME: ERROR: $*" >&2; exit 2; }

fs_pg_env() {
  export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-$(id -un)}"
}

# Odoo 18.0 must be importable and PostgreSQL reachable: fail loudly, never skip.
fs_check_odoo_and_pg() {
  local info
  info="$("$PYTHON" - <<'PY' 2>&1
import odoo.release
assert odoo.release.version_info[:2] == (18, 0), "Odoo %s found, 18.0 required" % odoo.release.version
PY
)" || fs_die "Odoo 18.0 is not importable with $PYTHON ($(tail -n 1 <<<"$info")). Install Odoo 18.0 (official source, package or Docker image), see README.md."
  info="$("$PYTHON" - <<PY 2>&1
import psycopg2
try:
    psycopg2.connect(host="$PGHOST", port="$PGPORT", user="$PGUSER", dbname="postgres", connect_timeout=5).close()
except psycopg2.OperationalError as exc:
    raise SystemExit(" ".join(str(exc).split()))
PY
)" || fs_die "PostgreSQL is unreachable at $PGHOST:$PGPORT as role $PGUSER ($info). Start PostgreSQL or set PGHOST/PGPORT/PGUSER (and PGPASSWORD)."
}

fs_install_requirements() {
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r "$ROOT/requirements.txt" \
    || fs_die "could not install requirements.txt"
}

# Odoo's own addons folders (those holding 'account'), comma separated.
fs_odoo_addons_path() {
  local path
  path="$("$PYTHON" - <<'PY'
import os, odoo
root = os.path.dirname(os.path.dirname(odoo.__file__))
paths = [p for p in (os.path.join(root, "addons"), os.path.join(os.path.dirname(odoo.__file__), "addons"))
         if os.path.isdir(os.path.join(p, "account"))]
print(",".join(paths))
PY
)"
  [ -n "$path" ] || fs_die "cannot find Odoo's addons (no 'account' addon next to the odoo package)."
  echo "$path"
}

# Every addon of the suite (folders of addons/ with a manifest), comma separated.
fs_suite_addons() {
  (cd "$ROOT/addons" && for d in */__manifest__.py; do printf '%s,' "${d%%/*}"; done) | sed 's/,$//'
}

fs_new_fernet_key() {
  "$PYTHON" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'
}

fs_drop_db() {
  "$PYTHON" - "$1" <<PY >/dev/null 2>&1 || true
import sys, psycopg2
c = psycopg2.connect(host="$PGHOST", port="$PGPORT", user="$PGUSER", dbname="postgres"); c.autocommit = True
c.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1])
PY
}

# fs_write_conf FILE DB KEY DATA_DIR [extra lines...]
fs_write_conf() {
  local file="$1" db="$2" key="$3" data="$4"; shift 4
  {
    echo "[options]"
    echo "addons_path = $ROOT/addons,$(fs_odoo_addons_path)"
    echo "db_host = $PGHOST"
    echo "db_port = $PGPORT"
    echo "db_user = $PGUSER"
    echo "db_name = $db"
    echo "dbfilter = ^$db\$"
    echo "finance_sync_encryption_key = $key"
    echo "data_dir = $data"
    for line in "$@"; do echo "$line"; done
  } > "$file"
}

# fs_install CONF DB ADDONS LOG [odoo args...]: install addons, fail loudly with the log tail
fs_install() {
  local conf="$1" db="$2" addons="$3" log="$4"; shift 4
  "$PYTHON" -m odoo -c "$conf" -d "$db" -i "$addons" --stop-after-init --log-level=warn "$@" > "$log" 2>&1 \
    || { tail -n 80 "$log" >&2; fs_die "installing $addons failed"; }
  if grep -E "ERROR|CRITICAL" "$log" >&2; then fs_die "errors while installing $addons"; fi
}
