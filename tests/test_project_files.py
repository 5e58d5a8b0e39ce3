"""Consistency of the project's own files: compose file, Docker build, config template,
scripts, README and the top-level layout. Plain pytest functions, no Odoo environment.

docker-compose.yml is read with the small strict parser below (PyYAML is not one of the
suite's requirements). It accepts only the YAML the compose file uses: block mappings,
block sequences of scalars, flow sequences of scalars, plain and quoted scalars and
comments; anything else (anchors, multi-line scalars, flow mappings, tabs) is an error,
so the file cannot silently drift outside what is checked here. When PyYAML happens to be
installed, a test cross-checks the two parsers.
"""
import configparser
import fnmatch
import os
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDONS_DIR = os.path.join(ROOT, "addons")
ALLOWED_TOP_LEVEL = {
    "addons", "requirements.txt", "odoo.conf.example", "tests", "docs", "docker-compose.yml",
    "README.md", ".ci", "scripts", ".pre-commit-config.yaml", ".pylintrc", "ruff.toml",
}


def path(*parts):
    return os.path.join(ROOT, *parts)


def read(*parts):
    with open(path(*parts), encoding="utf-8") as handle:
        return handle.read()


# --------------------------------------------------------------------------- YAML subset


class YamlSubsetError(ValueError):
    pass


_KEY_RE = re.compile(r"([A-Za-z0-9_.\-]+|\"[^\"]*\"|'[^']*')\s*:(?:\s+|$)(.*)$")


def _strip_comment(text):
    """Drop a trailing comment (a '#' at the start or after a space, outside quotes)."""
    quote = None
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'" and (i == 0 or text[i - 1] in " [,"):
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] == " "):
            return text[:i].rstrip()
    if quote:
        raise YamlSubsetError("unterminated quote in %r" % text)
    return text.rstrip()


def _scalar(text, lineno):
    text = text.strip()
    if text == "":
        return None
    if text[0] == '"':
        if len(text) < 2 or text[-1] != '"':
            raise YamlSubsetError("line %d: bad double-quoted scalar %r" % (lineno, text))
        body = text[1:-1]
        if "\\" in body.replace('\\"', "").replace("\\\\", ""):
            raise YamlSubsetError("line %d: escape sequences other than \\\" and \\\\ are not supported" % lineno)
        return body.replace('\\"', '"').replace("\\\\", "\\")
    if text[0] == "'":
        if len(text) < 2 or text[-1] != "'":
            raise YamlSubsetError("line %d: bad single-quoted scalar %r" % (lineno, text))
        return text[1:-1].replace("''", "'")
    if text[0] in "&*!|>{@`%":
        raise YamlSubsetError("line %d: unsupported YAML construct %r" % (lineno, text))
    if text[0] == "[":
        return _flow_sequence(text, lineno)
    if ": " in text or text.endswith(":"):
        raise YamlSubsetError("line %d: a plain scalar may not contain ': ' (%r)" % (lineno, text))
    return text


def _flow_sequence(text, lineno):
    if not text.endswith("]"):
        raise YamlSubsetError("line %d: flow sequences must fit on one line" % lineno)
    body = text[1:-1].strip()
    if not body:
        return []
    items, current, quote = [], "", None
    for char in body:
        if quote:
            current += char
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        elif char in "[]{}":
            raise YamlSubsetError("line %d: nested flow collections are not supported" % lineno)
        else:
            current += char
    items.append(current)
    values = [_scalar(item, lineno) for item in items]
    if any(v is None or isinstance(v, list) for v in values):
        raise YamlSubsetError("line %d: empty or nested item in %r" % (lineno, text))
    return values


def parse_yaml_subset(text):
    """Parse the compose file's YAML subset into dicts, lists and strings (None if empty)."""
    lines = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw:
            raise YamlSubsetError("line %d: tab character" % lineno)
        content = _strip_comment(raw)
        if content.strip() in ("---", "..."):
            raise YamlSubsetError("line %d: multi-document files are not supported" % lineno)
        if content.strip():
            lines.append((lineno, len(content) - len(content.lstrip(" ")), content.strip()))

    def block(pos, indent):
        lineno, ind, content = lines[pos]
        if ind != indent:
            raise YamlSubsetError("line %d: unexpected indentation" % lineno)
        if content.startswith("- ") or content == "-":
            result, pos = [], pos
            while pos < len(lines) and lines[pos][1] == indent and lines[pos][2].startswith("-"):
                lineno, _ind, content = lines[pos]
                item = content[1:].strip()
                if not content.startswith("- ") or not item:
                    raise YamlSubsetError("line %d: only scalar sequence items are supported" % lineno)
                if _KEY_RE.match(item) and not item.startswith(("'", '"')):
                    raise YamlSubsetError("line %d: sequences of mappings are not supported" % lineno)
                result.append(_scalar(item, lineno))
                pos += 1
            return result, pos
        result = {}
        while pos < len(lines) and lines[pos][1] == indent:
            lineno, _ind, content = lines[pos]
            match = _KEY_RE.match(content)
            if not match or content.startswith("-"):
                raise YamlSubsetError("line %d: expected 'key: value', got %r" % (lineno, content))
            key = _scalar(match.group(1), lineno)
            if key in result:
                raise YamlSubsetError("line %d: duplicate key %r" % (lineno, key))
            rest = match.group(2)
            pos += 1
            if rest:
                result[key] = _scalar(rest, lineno)
            elif pos < len(lines) and lines[pos][1] > indent:
                result[key], pos = block(pos, lines[pos][1])
            elif pos < len(lines) and lines[pos][1] == indent and lines[pos][2].startswith("- "):
                result[key], pos = block(pos, indent)  # compact sequence under its key
            else:
                result[key] = None
        if pos < len(lines) and lines[pos][1] > indent:
            raise YamlSubsetError("line %d: unexpected indentation" % lines[pos][0])
        return result, pos

    if not lines:
        return None
    data, pos = block(0, lines[0][1])
    if pos != len(lines):
        raise YamlSubsetError("line %d: unexpected dedent" % lines[pos][0])
    return data


@pytest.fixture(scope="module")
def compose():
    return parse_yaml_subset(read("docker-compose.yml"))


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def _split_volume(spec):
    """'source:target[:mode]' -> (source, target, mode)."""
    parts = spec.split(":")
    assert 2 <= len(parts) <= 3, "volume %r is not source:target[:mode]" % spec
    return parts[0], parts[1], parts[2] if len(parts) == 3 else "rw"


def _is_host_path(source):
    return source.startswith((".", "/", "~"))


def _mount(service, host_path):
    """(target, mode) of the bind mount of ``host_path`` in ``service``, or (None, None)."""
    for spec in service.get("volumes") or []:
        source, target, mode = _split_volume(spec)
        if _is_host_path(source) and os.path.normpath(source) == os.path.normpath(host_path):
            return target, mode
    return None, None


def _mount_target(service, host_path):
    return _mount(service, host_path)[0]


def _dockerfile(service):
    build = service["build"]
    if isinstance(build, str):
        return os.path.join(build, "Dockerfile"), build
    return os.path.join(build["context"], build.get("dockerfile", "Dockerfile")), build["context"]


def _from_lines(dockerfile_text):
    """[(image, stage alias or None)] of every FROM instruction."""
    result = []
    for line in dockerfile_text.splitlines():
        words = line.split()
        if words and words[0].upper() == "FROM":
            args = [w for w in words[1:] if not w.startswith("--")]
            alias = args[2] if len(args) >= 3 and args[1].upper() == "AS" else None
            result.append((args[0], alias))
    return result


def _addons_with_manifest():
    return sorted(
        name for name in os.listdir(ADDONS_DIR)
        if os.path.isfile(os.path.join(ADDONS_DIR, name, "__manifest__.py"))
    )


# --------------------------------------------------------------------------- the parser itself


def test_yaml_subset_parser_reads_the_shapes_the_compose_file_uses():
    text = (
        "# comment\n"
        "a:\n"
        "  b: plain value  # trailing comment\n"
        "  c: \"quoted # not a comment\"\n"
        "  d: ['x', \"y\", z]\n"
        "  e:\n"
        "    - \"8069:8069\"\n"
        "    - ./addons:/mnt/extra-addons:ro\n"
        "  f:\n"
        "top:\n"
        "  empty:\n"
    )
    assert parse_yaml_subset(text) == {
        "a": {"b": "plain value", "c": "quoted # not a comment", "d": ["x", "y", "z"],
              "e": ["8069:8069", "./addons:/mnt/extra-addons:ro"], "f": None},
        "top": {"empty": None},
    }


@pytest.mark.parametrize("text", [
    "a: &anchor value\n",
    "a: |\n  text\n",
    "a: {b: c}\n",
    "a:\n  - b: c\n",
    "a:\n\tb: c\n",
    "a: b\na: c\n",
    "a:\n    b: c\n  d: e\n",
    "a: \"unterminated\n",
])
def test_yaml_subset_parser_rejects_what_it_does_not_understand(text):
    with pytest.raises(YamlSubsetError):
        parse_yaml_subset(text)


def test_yaml_subset_parser_agrees_with_pyyaml_on_the_compose_file():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: cross-check not possible")

    def normalize(value):
        if isinstance(value, dict):
            return {str(k): normalize(v) for k, v in value.items()}
        if isinstance(value, list):
            return [normalize(v) for v in value]
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return None
        return str(value)

    text = read("docker-compose.yml")
    assert parse_yaml_subset(text) == normalize(yaml.safe_load(text))


# --------------------------------------------------------------------------- docker-compose.yml


def test_compose_has_the_documented_services(services):
    assert {"db", "sandbox", "odoo", "odoo-tests"} <= set(services)


def test_compose_depends_on_names_existing_services(services):
    for name, service in services.items():
        depends = service.get("depends_on") or []
        for dependency in depends:
            assert dependency in services, "%s depends on unknown service %s" % (name, dependency)
            assert dependency != name


def test_compose_host_paths_exist_and_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for spec in service.get("volumes") or []:
            source, target, mode = _split_volume(spec)
            assert target.startswith("/"), "%s: mount target %r is not absolute" % (name, target)
            assert mode in ("ro", "rw"), "%s: unknown mount mode in %r" % (name, spec)
            if _is_host_path(source):
                assert source.startswith("."), "%s mounts %r: host paths must be inside the repository" % (name, source)
                assert os.path.exists(path(source)), "%s mounts %s, which does not exist" % (name, source)
            else:
                assert source in declared, "%s uses volume %s, not declared under volumes:" % (name, source)


def test_compose_builds_from_existing_contexts_and_dockerfiles(services):
    for name, service in services.items():
        if "build" not in service:
            continue
        dockerfile, context = _dockerfile(service)
        assert os.path.isdir(path(context)), "%s builds from missing context %s" % (name, context)
        assert os.path.isfile(path(dockerfile)), "%s builds from missing %s" % (name, dockerfile)
        text = read(dockerfile)
        stages = [alias for _image, alias in _from_lines(text) if alias]
        target = service["build"].get("target") if isinstance(service["build"], dict) else None
        if target:
            assert target in stages, "%s builds target %s, not a stage of %s" % (name, target, dockerfile)
        # every COPY source is in the build context and not filtered out by its ignore file
        ignore_file = path(dockerfile + ".dockerignore")
        kept = None
        if os.path.isfile(ignore_file):
            rules = [line.strip() for line in read(dockerfile + ".dockerignore").splitlines()
                     if line.strip() and not line.startswith("#")]
            if rules and rules[0] == "*":
                kept = {rule[1:] for rule in rules[1:] if rule.startswith("!")}
        for line in text.splitlines():
            words = line.split()
            if words and words[0].upper() in ("COPY", "ADD") and not any(w.startswith("--from") for w in words):
                for source in [w for w in words[1:-1] if not w.startswith("--")]:
                    assert os.path.exists(path(context, source)), "%s: %s copies missing %s" % (name, dockerfile, source)
                    if kept is not None:
                        assert source in kept, "%s copies %s, which its .dockerignore leaves out" % (dockerfile, source)


def test_compose_db_is_postgres_16_with_a_healthcheck(services):
    db = services["db"]
    assert db["image"] == "postgres:16"
    assert db["healthcheck"]["test"]
    assert services["odoo"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_odoo_image_is_official_odoo_18(services):
    for name in ("odoo", "odoo-tests"):
        dockerfile, _context = _dockerfile(services[name])
        froms = _from_lines(read(dockerfile))
        assert froms[0][0] == "odoo:18.0", "%s: first FROM of %s is %s" % (name, dockerfile, froms[0][0])
        known = set()
        for image, alias in froms:
            assert image == "odoo:18.0" or image in known, "%s: FROM %s is neither odoo:18.0 nor an earlier stage" % (dockerfile, image)
            if alias:
                known.add(alias)


def test_odoo_image_installs_requirements_txt(services):
    dockerfile, _context = _dockerfile(services["odoo"])
    text = read(dockerfile)
    assert re.search(r"COPY\s+requirements\.txt\s", text)
    assert re.search(r"pip3? install[^\n]*(\\\n[^\n]*)*-r\s+\S*requirements\.txt", text)


def test_sandbox_service_runs_the_sandbox_package(services):
    sandbox = services["sandbox"]
    dockerfile, _context = _dockerfile(sandbox)
    assert _from_lines(read(dockerfile))[0][0] == "python:3.11-slim"
    target, mode = _mount(sandbox, "./addons/finance_sync_sandbox")
    assert target, "the sandbox service must mount ./addons/finance_sync_sandbox"
    assert mode == "ro"
    assert sandbox["working_dir"] == target
    command = sandbox["command"]
    module = command[command.index("-m") + 1]
    assert os.path.isfile(path("addons", "finance_sync_sandbox", module, "__main__.py"))
    port = command[command.index("--port") + 1]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert "%s:%s" % (port, port) in sandbox["ports"]
    assert ":%s/" % port in " ".join(sandbox["healthcheck"]["test"])


def test_odoo_service_mounts_the_addons_and_the_config_template(services):
    odoo = services["odoo"]
    assert _mount_target(odoo, "./addons") == "/mnt/extra-addons"
    assert _mount_target(odoo, "./odoo.conf.example")
    assert "8069:8069" in odoo["ports"]


def test_demo_database_installs_every_suite_addon(services):
    """The demo's list (compose and scripts/run) is every installable addon in addons/
    (scripts/test installs exactly those by default)."""
    listed = services["odoo"]["environment"]["FINANCE_SYNC_ADDONS"].split(",")
    assert len(listed) == len(set(listed))
    assert sorted(listed) == _addons_with_manifest(), "update FINANCE_SYNC_ADDONS in docker-compose.yml"
    match = re.search(r'^ADDONS="\$\{FINANCE_SYNC_ADDONS:-([^}"]+)\}"', read("scripts", "run"), re.M)
    assert match, "scripts/run no longer sets ADDONS from FINANCE_SYNC_ADDONS"
    assert sorted(match.group(1).split(",")) == sorted(listed)


def test_tests_service_runs_scripts_test_against_the_db_service(services):
    tests = services["odoo-tests"]
    assert tests["profiles"] == ["tests"]
    assert tests["environment"]["PGHOST"] == "db"
    assert tests["depends_on"]["db"]["condition"] == "service_healthy"
    repo = _mount_target(tests, ".")
    assert repo and tests["working_dir"] == repo
    entry = tests["entrypoint"]
    assert len(entry) == 1 and os.access(path(entry[0]), os.X_OK), "entrypoint %r is not an executable of the repo" % entry
    last = [line.strip() for line in read(entry[0]).splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last == 'exec %s "$@"' % _ci_command(), "%s must end by running %s" % (entry[0], _ci_command())


# --------------------------------------------------------------------------- odoo.conf.example


@pytest.fixture(scope="module")
def conf():
    parser = configparser.RawConfigParser(interpolation=None)
    parser.read_string(read("odoo.conf.example"))
    return parser["options"]


def test_conf_example_names_the_encryption_key_but_ships_none(conf):
    assert "finance_sync_encryption_key" in conf
    assert conf["finance_sync_encryption_key"] == "", "never commit a real key"
    assert "Re-encrypt secrets" in read("odoo.conf.example")


def test_conf_example_addons_path_holds_the_suite_addons(conf, services):
    entries = [p.strip() for p in conf["addons_path"].split(",")]
    assert _mount_target(services["odoo"], "./addons") in entries


def test_conf_example_has_a_cron_thread_per_worker_entry(conf):
    tree = ET.parse(path("addons", "finance_sync_core", "data", "ir_cron_data.xml"))
    workers = [
        rec for rec in tree.iter("record")
        if rec.get("model") == "ir.cron"
        and "_cron_run_worker" in "".join(f.text or "" for f in rec.iter("field") if f.get("name") == "code")
    ]
    assert workers, "no job worker cron found"
    assert int(conf["max_cron_threads"]) >= len(workers)
    assert int(conf["workers"]) >= 1
    assert int(conf["limit_time_real_cron"]) > 0


def test_conf_example_values_carry_no_inline_comments(conf):
    for name, value in conf.items():
        assert not re.search(r"\s[;#]", value), "%s: Odoo would read the comment as part of the value" % name


# --------------------------------------------------------------------------- scripts and README


def _fenced_lines(markdown):
    lines, inside = [], False
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
        elif inside:
            lines.append(line.strip())
    return lines


def _ci_command():
    commands = [
        line.strip() for line in read(".ci", "run").splitlines()
        if line.strip() and not line.strip().startswith(("#", "set ", "cd "))
    ]
    assert len(commands) == 1, ".ci/run should run exactly one command, found %r" % commands
    words = shlex.split(commands[0])
    return " ".join(words[1:] if words[0] == "exec" else words)


def test_readme_test_command_is_what_ci_runs():
    command = _ci_command()
    assert command == "scripts/test"
    assert command in _fenced_lines(read("README.md"))


def test_readme_docker_commands_match_the_compose_file(services):
    fenced = _fenced_lines(read("README.md"))
    assert "docker compose up" in fenced
    runs = [line for line in fenced if line.startswith("docker compose run --rm ") and line.split()[-1] == "odoo-tests"]
    assert runs, "README.md gives no 'docker compose run --rm ... odoo-tests' command"
    assert "odoo-tests" in services
    # the shared reference data the golden tests read is mounted where the service expects it
    target = services["odoo-tests"]["environment"]["FINANCE_SYNC_SHARED_DATA"]
    assert ":%s:ro" % target in runs[0]


def test_readme_addon_table_tells_the_status_of_each_addon():
    """present = installable (has a manifest), in progress = folder only, planned = no folder."""
    rows = re.findall(r"^\| `([a-z_]+)` \| ([a-z ]+) \|", read("README.md"), re.M)
    assert len(rows) >= 6, "README.md lost its addon table"
    for name, status in rows:
        if os.path.isfile(path("addons", name, "__manifest__.py")):
            expected = "present"
        elif os.path.isdir(path("addons", name)):
            expected = "in progress"
        else:
            expected = "planned"
        assert status == expected, "README.md says %s is %s, it is %s" % (name, status, expected)
    assert set(_addons_with_manifest()) <= {name for name, _status in rows}, "an addon is missing from README.md"


@pytest.mark.parametrize("script", [
    "scripts/run", "scripts/test", ".ci/run", "scripts/docker/odoo-entrypoint.sh",
    "scripts/docker/run-tests.sh",
])
def test_scripts_are_executable_bash_without_syntax_errors(script):
    assert os.access(path(script), os.X_OK), "%s is not executable" % script
    result = subprocess.run(["bash", "-n", path(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_markdown_links_point_to_existing_files():
    """Relative links in README.md and docs/ resolve (screenshots under docs/img/ excepted)."""
    documents = ["README.md"] + [os.path.join("docs", n) for n in sorted(os.listdir(path("docs"))) if n.endswith(".md")]
    assert len(documents) > 1
    for document in documents:
        base = os.path.dirname(document)
        for target in re.findall(r"\]\(([^)\s]+)\)", read(document)):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            target = target.split("#")[0]
            resolved = os.path.normpath(os.path.join(base, target))
            if resolved.startswith(os.path.join("docs", "img") + os.sep):
                continue  # screenshots are added separately
            assert os.path.exists(path(resolved)), "%s links to missing %s" % (document, target)


# --------------------------------------------------------------------------- layout


def _gitignore_patterns():
    try:
        text = read(".gitignore")
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _ignored(name, is_dir, patterns):
    for pattern in patterns:
        dir_only = pattern.endswith("/")
        pattern = pattern.strip("/")
        if "/" in pattern or (dir_only and not is_dir):
            continue
        if fnmatch.fnmatch(name, pattern):
            return True
    return False


def _ignores_itself(folder):
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8") as handle:
            return "*" in {line.strip() for line in handle}
    except OSError:
        return False


def _has_files(folder):
    return any(files for _root, _dirs, files in os.walk(folder))


def _top_level_entries():
    """Top-level names git would show (tracked or untracked, not ignored)."""
    try:
        result = subprocess.run(
            ["git", "-C", ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            capture_output=True, check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        result = None  # no git here (e.g. the test container): apply .gitignore ourselves
    if result is not None:
        return {name.split("/")[0] for name in result.stdout.decode().split("\0") if name}
    patterns = _gitignore_patterns()
    entries = set()
    for name in os.listdir(ROOT):
        full = path(name)
        is_dir = os.path.isdir(full)
        if name == ".git" or _ignored(name, is_dir, patterns) or (is_dir and not _has_files(full)):
            continue
        if is_dir and _ignores_itself(full):
            continue  # e.g. .hypothesis/, which holds a .gitignore of "*"
        entries.add(name)
    return entries


def test_top_level_layout_is_exactly_the_agreed_set():
    entries = _top_level_entries() - {".gitignore"}
    assert entries == ALLOWED_TOP_LEVEL, "unexpected: %s; missing: %s" % (
        sorted(entries - ALLOWED_TOP_LEVEL), sorted(ALLOWED_TOP_LEVEL - entries))
