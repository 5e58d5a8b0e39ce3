"""Keys, seals and the out-of-database chain head of the audit log (no ORM here).

Seals are HMAC-SHA256 under a key derived (HKDF) from ``finance_sync_encryption_key``, which the
database does not hold: someone who can write SQL can neither recompute a seal after an edit nor
forge the append signature a row gets from the server when the suite writes it. The head of the
chain (sequence + seal of the last sealed entry) is also kept in a small file next to the
database's filestore, so deleting or replacing the newest entries is detected too.
"""
import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .crypto import ENV_VAR

GENESIS = "0" * 64
ALG_SHA256 = "sha256"  # entries sealed before keyed sealing existed (stored as NULL)
ALG_HMAC = "hmac-sha256-v1"
SEAL_INFO = b"finance_sync audit seal v1"
APPEND_INFO = b"finance_sync audit append v1"
HEAD_FILE = "finance_sync_audit_head.json"
# tests point this at a temporary directory (the head of a rolled-back test transaction must not
# outlive it); None = the database's filestore directory
HEAD_DIR = None


class AuditKey:
    __slots__ = ("key_id", "seal_key", "append_key")

    def __init__(self, material):
        self.seal_key = _hkdf(material, SEAL_INFO)
        self.append_key = _hkdf(material, APPEND_INFO)
        self.key_id = hmac.new(self.seal_key, b"key id", hashlib.sha256).hexdigest()[:16]


def _hkdf(material, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


@functools.lru_cache(maxsize=8)
def _keys_for(value):
    return tuple(AuditKey(k.strip().encode("utf-8")) for k in value.split(",") if k.strip())


def audit_keys(config_value=None):
    """Keys derived from every configured encryption key; the first seals, all verify."""
    return _keys_for(config_value or os.environ.get(ENV_VAR) or "")


def canonical(entry):
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def legacy_hash(prev, entry):
    """The unkeyed seal of entries sealed before keyed sealing (sha256 over prev + content)."""
    return hashlib.sha256((prev + canonical(entry)).encode("utf-8")).hexdigest()


def seal(key, prev, entry):
    return hmac.new(key.seal_key, (prev + canonical(entry)).encode("utf-8"), hashlib.sha256).hexdigest()


def append_mac(key, row_id, entry):
    """What the server signs when the suite appends a row: its id and content."""
    return hmac.new(key.append_key, ("%d:" % row_id + canonical(entry)).encode("utf-8"), hashlib.sha256).hexdigest()


def valid_append_mac(keys, row_id, entry, mac):
    if not mac:
        return False
    return any(hmac.compare_digest(append_mac(k, row_id, entry), mac) for k in keys)


# ---------------------------------------------------------------------- head file
def head_path(filestore_dir):
    return os.path.join(HEAD_DIR or filestore_dir, HEAD_FILE)


@contextlib.contextmanager
def head_lock(path):
    """Serialise read-modify-write of the head file between processes of this host."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_head(path):
    """The head file's content; None when absent; {"unreadable": True} when it is not ours."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"unreadable": True}
    if not isinstance(data, dict) or not isinstance(data.get("confirmed"), dict):
        return {"unreadable": True}
    return data


def write_head(path, data):
    """Atomic replace: write a temporary file, fsync it, rename it over the head, fsync the folder."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def confirm_head(path, head):
    """After the sealing transaction committed: its pending head becomes the confirmed one,
    unless a later seal already rewrote the file (that one confirmed ours, having seen it)."""
    with head_lock(path):
        data = read_head(path)
        if data and not data.get("unreadable") and data.get("pending") == head:
            data["confirmed"], data["pending"] = head, None
            write_head(path, data)
