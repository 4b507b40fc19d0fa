"""The apps take part in each other's work as the project's settings say, and nowhere else."""

import ast
from pathlib import Path

from coalition.crm import hooks
from coalition.project.checks import composition
from letters.services import letter_importer
from signatories.crm import MERGE_PARTICIPANT, timeline_entries
from signatories.interchange import LETTER_IMPORTER

ROOT = Path(__file__).resolve().parents[1]


def test_the_settings_compose_the_apps() -> None:
    assert composition() == []
    assert hooks.merge_participants() == (MERGE_PARTICIPANT,)
    assert hooks.timeline_sources() == (timeline_entries,)
    assert letter_importer() is LETTER_IMPORTER


def test_a_setting_naming_what_does_not_exist_fails_the_system_check(settings) -> None:
    settings.CRM_TIMELINE_SOURCES = ["signatories.crm.no_such_source"]
    settings.LETTER_IMPORTER = "signatories.nowhere.IMPORTER"
    errors = composition()
    assert {e.id for e in errors} == {"project.E001"}
    assert [e.msg.split(",")[0] for e in errors] == [
        "CRM_TIMELINE_SOURCES names 'signatories.crm.no_such_source'",
        "LETTER_IMPORTER names 'signatories.nowhere.IMPORTER'",
    ]


def test_no_app_config_registers_itself_into_another_app() -> None:
    """An app's ready() connects signals; it calls no other app's register_* function."""
    configs = [*ROOT.glob("*/apps.py"), *ROOT.glob("coalition/*/apps.py")]
    assert len(configs) == 5
    for path in configs:
        calls = {
            node.func.attr
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        assert not {c for c in calls if c.startswith("register")}, path
