"""A normal (not editable) install must carry every package and data file."""

from __future__ import annotations

import tomllib
from conftest import ROOT


def test_every_grader_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "grader").rglob("__init__.py")
    }
    assert set(config["packages"]) == on_disk | {"grader.reference", "grader.student_template"}
    assert config["package-dir"]["grader.reference"] == "reference"


def test_templates_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "templates/*.j2" in config["package-data"]["grader.render"]
    assert list((ROOT / "grader" / "render" / "templates").glob("*.j2"))
