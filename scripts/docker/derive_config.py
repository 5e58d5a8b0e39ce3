#!/usr/bin/env python3
"""Write an Odoo configuration derived from odoo.conf.example.

    derive_config.py EXAMPLE OUTPUT [option=value ...]

Reads EXAMPLE (an Odoo configuration file with an [options] section), replaces or adds
the options given on the command line and writes OUTPUT with mode 0600 (it holds the
database password and the encryption key). Used by the odoo service of docker-compose.yml
(scripts/docker/odoo-entrypoint.sh) and by scripts/run, so both start from the same
template. Standard library only.
"""
import configparser
import os
import sys
import tempfile

HEADER = (
    "; Generated from %s by scripts/docker/derive_config.py: edit the example\n"
    "; (or the variables of the script that generated this file), not this copy.\n"
)


def derive(example, output, overrides):
    parser = configparser.RawConfigParser(interpolation=None)
    parser.optionxform = str  # keep option names exactly as written
    with open(example, encoding="utf-8") as handle:
        parser.read_file(handle)
    if not parser.has_section("options"):
        raise SystemExit("derive_config: %s has no [options] section" % example)
    for name, value in overrides:
        parser.set("options", name, value)
    folder = os.path.dirname(os.path.abspath(output))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".odoo-conf-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(HEADER % os.path.basename(example))
            parser.write(handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, output)
        tmp = None
    finally:
        if tmp is not None:
            os.unlink(tmp)


def parse_overrides(args):
    overrides = []
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or not name or name != name.strip():
            raise SystemExit("derive_config: expected option=value, got %r" % arg)
        if "\n" in value:
            raise SystemExit("derive_config: the value of %s spans lines" % name)
        overrides.append((name, value))
    return overrides


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    derive(argv[0], argv[1], parse_overrides(argv[2:]))


if __name__ == "__main__":
    main(sys.argv[1:])
