"""The layers' import rules, checked on the source rather than hoped for.

``domain`` is pure (nothing of the project); agents never import the web layer
and the web layer never imports agents (views read tables; agents write them).
``localservices`` starts before any ShopStream code and imports none of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("app", "agents", "tables", "domain", "localservices", "loadgen", "bench")

#: package -> module prefixes it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": tuple(p for p in PROJECT_PACKAGES if p != "domain"),
    "agents": ("app.web",),
    "app/web": ("agents",),
    "localservices": ("app", "agents", "tables", "domain", "loadgen", "bench"),
}


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module an import statement of ``path`` names (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def violates(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_package_imports_nothing_it_must_not(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules under {package}/"
    broken = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path, package_of(path)))
        if any(violates(module, prefix) for prefix in FORBIDDEN[package])
    ]
    assert broken == []


def test_the_rule_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself works: a forbidden import in a module is found."""
    sample = tmp_path / "probe.py"
    sample.write_text("from app.web import orders\nfrom ..web import analytics\n")
    found = imported_modules(sample, "app.kafka")
    assert {"app.web.orders", "app.web.analytics"} <= found
    assert all(violates(m, "app.web") for m in ("app.web.orders", "app.web"))
