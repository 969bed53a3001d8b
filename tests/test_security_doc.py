"""docs/security.md: every promise names a test, and every test it names exists."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"`tests/([\w/]+\.py)::(\w+)`")


def test_every_test_named_in_the_security_promises_exists():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = REFERENCE.findall(text)
    assert named, "docs/security.md names no test"
    missing = []
    for file, name in named:
        path = ROOT / "tests" / file
        tree = ast.parse(path.read_text(encoding="utf-8")) if path.is_file() else ast.Module(body=[])
        functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        if name not in functions:
            missing.append(f"tests/{file}::{name}")
    assert missing == []
