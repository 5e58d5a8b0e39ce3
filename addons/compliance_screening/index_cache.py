"""The matching index of the current list versions, built once per worker process.

Keyed by database and by the (list id, current version id) pairs it was built from: a new
list version (or a list switched on/off) gives a new signature and the next screening
builds a new index; everything else reuses the one in memory across requests and jobs.
"""
import logging
import threading
import time

from .engine.matcher import Index

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_cache = {}  # dbname -> (signature, Index)


def _split(value):
    return [v for v in (value or "").split("\n") if v]


def entry_rows(cr, where, params):
    cr.execute("""
        SELECT e.id, e.entity_type, e.name, e.aliases, e.countries, e.dates_of_birth
          FROM screening_list_entry e JOIN screening_list l ON l.id = e.list_id
         WHERE e.active AND l.active AND l.kind != 'provider' AND """ + where, params)
    for entry_id, etype, name, aliases, countries, dobs in cr.fetchall():
        yield entry_id, etype, [name] + _split(aliases), _split(countries), _split(dobs)


def build(cr, entry_ids=None):
    """An Index over every active entry of the active lists (or only ``entry_ids``); the hits an
    external provider reported (lists of kind ``provider``) are its own, never screened locally."""
    if entry_ids is not None:
        return Index(entry_rows(cr, "e.id = ANY(%s)", (list(entry_ids),)))
    return Index(entry_rows(cr, "TRUE", ()))


def signature(cr):
    cr.execute("SELECT id, current_version_id FROM screening_list WHERE active ORDER BY id")
    return tuple(cr.fetchall())


def current(env):
    """The shared index for this database (built on first use and after each list version)."""
    env.flush_all()
    cr = env.cr
    sig = signature(cr)
    key = cr.dbname
    hit = _cache.get(key)
    if hit and hit[0] == sig:
        return hit[1]
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] == sig:
            return hit[1]
        started = time.monotonic()
        index = build(cr)
        _cache[key] = (sig, index)
        _logger.info("Screening index built: %d entries, %d names, %d distinct tokens in %.2fs",
                     len(index), len(index.names), len(index.vtok), time.monotonic() - started)
        return index


def clear():
    with _lock:
        _cache.clear()
