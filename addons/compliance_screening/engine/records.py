"""The canonical list entry every parser yields, and the delta between two list versions."""
import hashlib
import json
from dataclasses import dataclass, field

ENTITY_TYPES = ("person", "organization", "vessel", "aircraft", "unknown")


class ListParseError(ValueError):
    """A list file that cannot be read: the message says what and where; nothing is loaded."""

    def __init__(self, message, line=None):
        if line is not None:
            message = "%s (line %s)" % (message, line)
        super().__init__(message)
        self.message = message


@dataclass
class Entry:
    """One listed party: the list's own id, every name (primary first), evidence."""

    uid: str
    entity_type: str = "unknown"
    names: list = field(default_factory=list)  # primary name first, then aliases (any script)
    countries: list = field(default_factory=list)  # as written in the list (names or ISO codes)
    dates_of_birth: list = field(default_factory=list)  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    programs: list = field(default_factory=list)
    remarks: str = ""

    def add_name(self, name):
        name = " ".join((name or "").split())
        if name and name not in self.names:
            self.names.append(name)

    def add(self, attr, value):
        value = " ".join((value or "").split())
        bucket = getattr(self, attr)
        if value and value not in bucket:
            bucket.append(value)

    @property
    def name(self):
        return self.names[0] if self.names else ""

    @property
    def aliases(self):
        return self.names[1:]

    def fingerprint(self):
        """sha256 of what screening depends on: a changed fingerprint means a changed entry."""
        content = {"t": self.entity_type, "n": self.names, "c": sorted(self.countries),
                   "d": sorted(self.dates_of_birth), "p": sorted(self.programs)}
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def as_dict(self):
        return {"uid": self.uid, "entity_type": self.entity_type, "names": list(self.names),
                "countries": list(self.countries), "dates_of_birth": list(self.dates_of_birth),
                "programs": list(self.programs), "remarks": self.remarks}


def delta(previous, current):
    """Compare two versions given as {uid: fingerprint}; return (added, changed, removed) uid lists."""
    added = sorted(uid for uid in current if uid not in previous)
    removed = sorted(uid for uid in previous if uid not in current)
    changed = sorted(uid for uid, fp in current.items() if uid in previous and previous[uid] != fp)
    return added, changed, removed
