"""The package's stages: no module imports a higher stage, none reads another package's privates.

Stages, lowest first: the shared values (settings, results, the model, dates, threads);
`qa.ingest` (files to documents); `qa.index` (documents to generations on disk);
`qa.search` (a question against a generation); the engine and evaluation; the web app and
the command line. A module may import its own stage and the ones below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "qa"

STAGES = {
    "qa.settings": 0,
    "qa.results": 0,
    "qa.embed": 0,
    "qa.dates": 0,
    "qa.threads": 0,
    "qa.cluster": 0,
    "qa.ingest": 1,
    "qa.index": 2,
    "qa.search": 3,
    "qa.engine": 4,
    "qa.evaluate": 4,
    "qa.web": 5,
    "qa.cli": 5,
    "qa.api": 5,
}


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


MODULES = _modules()


def _stage(module: str) -> int:
    for prefix in sorted(STAGES, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return STAGES[prefix]
    raise AssertionError(f"{module} has no stage: add it (or its package) to STAGES")


def _package(module: str) -> str:
    is_package = (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()
    return module if is_package else module.rpartition(".")[0]


def _imports(module: str, tree: ast.Module) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for each import of a `qa` module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: counted from this module's package
                anchor = _package(module).split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # `from qa.index import vectors` imports the module qa.index.vectors.
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:
                    found.append((submodule, [], node.lineno))
                else:
                    found.append((base, [alias.name], node.lineno))
    return [(name, names, line) for name, names, line in found if name.split(".")[0] == "qa"]


def test_every_module_has_a_stage():
    for module in MODULES:
        if module != "qa":
            _stage(module)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "qa"))
def test_no_module_imports_a_higher_stage(module):
    higher = [
        f"line {line}: {imported}"
        for imported, _, line in _imports(module, MODULES[module])
        if imported != "qa" and _stage(imported) > _stage(module)
    ]
    assert not higher, f"{module} (stage {_stage(module)}) imports a higher stage: {higher}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reads_another_packages_private_names(module):
    tree = MODULES[module]
    aliases = {}  # local name -> qa module, for attribute reads such as `vectors._x`
    private = []
    for imported, names, line in _imports(module, tree):
        for name in names:
            if name.startswith("_") and _package(imported) != _package(module):
                private.append(f"line {line}: {imported}.{name}")
        if not names:
            aliases[imported.rpartition(".")[2]] = imported
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _package(aliases[node.value.id]) != _package(module)
        ):
            private.append(f"line {node.lineno}: {aliases[node.value.id]}.{node.attr}")
    assert not private, f"{module} reads private names of other packages: {private}"
