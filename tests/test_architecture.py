"""The package rules of docs/architecture.md hold: the import-linter contracts in pyproject.toml
are kept, and no module imports itself back through others (so `pytest` alone catches what
`lint-imports` in scripts/test.sh catches)."""
from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: central's own inner rules (pages -> services -> db) come with the split of its store.
ACYCLIC_PACKAGES = ("forms", "ledger", "scanner", "kiosk", "sync", "seda")


def _lint_imports() -> Path:
    folder = Path(sys.executable).parent
    found = [folder / name for name in ("lint-imports", "lint-imports.exe") if (folder / name).exists()]
    assert found, f"lint-imports is not installed next to {sys.executable} (pip install -e '.[test]')"
    return found[0]


def test_every_import_linter_contract_is_kept() -> None:
    run = subprocess.run([str(_lint_imports()), "--no-cache", "--no-logo"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 broken" in run.stdout


def test_pyproject_lists_no_ignored_imports() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "ignore_imports" not in text


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Groups of modules of ``package`` that import each other, directly or through others
    (strongly connected components of the direct-import graph, Tarjan's algorithm)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not (imported == package or imported.startswith(package + ".")):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ACYCLIC_PACKAGES, "central", cache_dir=None)


@pytest.mark.parametrize("package", ACYCLIC_PACKAGES)
def test_no_module_imports_itself_back_through_others(graph, package: str) -> None:
    assert _cycles(graph, package) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(graph, "pkg") == [["pkg.a", "pkg.b", "pkg.c"]]


#: A SQL statement spelled out (central/db's query modules are the only place for them).
_SQL = r"\b(SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET|CREATE (TABLE|INDEX)|DROP (TABLE|TRIGGER)|PRAGMA \w+|ANALYZE \w+)\b"
#: What the central pages must not do themselves (they call services; services hold the
#: queries): open a connection or a write transaction, or spell a SQL statement.
_PAGE_SQL = re.compile(r"\.(connect|write)\(\)|" + _SQL)
#: Services open transactions and call central/db's query functions, but spell no SQL.
_SERVICE_SQL = re.compile(_SQL)
#: Services that spell SQL on purpose, and why.
SERVICES_WITH_SQL = {
    "central/store_location.py": "finds and makes the store itself before any Store exists: whether a"
                                 " file or database holds Seda's tables, and PostgreSQL's role and"
                                 " database made over an administrator's own connection",
}


def _lines_matching(paths: list[Path], pattern: re.Pattern[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for path in sorted(paths)
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line)]


@pytest.mark.parametrize("package", ["central/web", "central/portal"])
def test_central_pages_run_no_sql(package: str) -> None:
    assert _lines_matching(list((ROOT / package).rglob("*.py")), _PAGE_SQL) == []


def _central_services() -> list[Path]:
    """The modules of the services layer of pyproject's "central: pages and APIs -> services ->
    db" contract, and notify's outbox (the SMS outbox's service, named in the contract that
    keeps pages off central.db)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"]
                   if c.get("containers") == ["central"] and c["type"] == "layers"]
    names = [name.strip() for name in contract["layers"][1].split(":")] + ["notify.outbox"]
    paths = []
    for name in names:
        module = ROOT / "central" / (name.replace(".", "/") + ".py")
        package = ROOT / "central" / name.replace(".", "/")
        paths += [module] if module.exists() else sorted(package.rglob("*.py"))
    return paths


def test_the_services_list_is_read_from_the_layers_contract() -> None:
    services = {str(path.relative_to(ROOT)) for path in _central_services()}
    assert {"central/rollups.py", "central/casework.py", "central/held_reports.py",
            "central/notify/outbox.py"} <= services
    assert not any(path.startswith(("central/db/", "central/web/", "central/portal/")) for path in services)


def test_central_services_spell_no_sql() -> None:
    services = [path for path in _central_services()
                if str(path.relative_to(ROOT)) not in SERVICES_WITH_SQL]
    assert _lines_matching(services, _SERVICE_SQL) == []


def test_every_service_allowed_sql_still_spells_some() -> None:
    for name in SERVICES_WITH_SQL:
        assert _lines_matching([ROOT / name], _SERVICE_SQL), f"{name} spells no SQL now: take it off the list"
