"""Importing templates into the database, on both backends: new versions go in, a rerun adds
nothing, and a changed template under an existing version is refused as a whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from checklist_fixtures import TEMPLATE_ID, import_test_templates, make_template, template_dict
from sqlmodel import Session, select

from server.checklists.models import ChecklistTemplate
from server.checklists.service import (
    ChecklistImportError,
    import_tree,
    list_templates,
    template_of,
)
from shared.checklist import load_all, template_digest

REAL_CHECKLISTS = Path(__file__).resolve().parents[2] / "checklists"


def _rows(engine) -> list[tuple[str, int, str]]:
    with Session(engine) as session:
        rows = session.exec(select(ChecklistTemplate).order_by(ChecklistTemplate.id)).all()
        return [(r.id, r.version, r.digest) for r in rows]


def test_import_is_idempotent_and_keeps_the_canonical_json(engine, clock):
    first = import_test_templates(engine, clock)
    assert first.added == [f"{TEMPLATE_ID} v1"] and first.unchanged == []
    again = import_test_templates(engine, clock)
    assert again.added == [] and again.unchanged == [f"{TEMPLATE_ID} v1"]
    template = make_template(1)
    assert _rows(engine) == [(TEMPLATE_ID, 1, template_digest(template))]
    with Session(engine) as session:
        row = session.get(ChecklistTemplate, (TEMPLATE_ID, 1))
        assert (row.item_count, row.major_count, row.industry) == (6, 1, "crowded_venue")
        # what comes back from JSON/JSONB is exactly what was imported
        assert template_digest(template_of(row)) == row.digest
        assert template_of(row) == template


def test_changed_template_under_the_same_version_is_refused(engine, clock):
    import_test_templates(engine, clock)
    changed = template_dict(1)
    changed["sections"][0]["items"][1]["photo_required"] = True
    v2 = make_template(2)
    with pytest.raises(ChecklistImportError) as err:
        import_test_templates(engine, clock, make_template(**changed), v2)
    (problem,) = err.value.problems
    assert f"{TEMPLATE_ID} v1 differs" in problem and f"{TEMPLATE_ID}/2.yaml" in problem
    # all or nothing: the valid v2 in the same run was not imported either
    assert [(i, v) for i, v, _ in _rows(engine)] == [(TEMPLATE_ID, 1)]
    # a new version is the way to change a template; old versions stay
    assert import_test_templates(engine, clock, make_template(1), v2).added == [f"{TEMPLATE_ID} v2"]
    with Session(engine) as session:
        assert [r.version for r in list_templates(session)] == [2]
        assert [r.version for r in list_templates(session, all_versions=True)] == [1, 2]


def test_invalid_template_is_not_imported(engine, clock):
    broken = template_dict(1)
    broken["sections"][0]["items"][0]["basis"]["standard"] = "nowhere"
    with pytest.raises(ChecklistImportError) as err:
        import_test_templates(engine, clock, make_template(**broken))
    assert "not a declared standard" in err.value.problems[0]
    assert _rows(engine) == []


def test_import_from_files_and_a_tree_edited_in_place(engine, clock, tmp_path):
    folder = tmp_path / TEMPLATE_ID
    folder.mkdir()
    (folder / "1.yaml").write_text(
        yaml.safe_dump(template_dict(1), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    with Session(engine) as session:
        assert import_tree(session, tmp_path, clock.now()).added == [f"{TEMPLATE_ID} v1"]
        data = template_dict(1)
        data["sections"][0]["items"][2]["pass_rule"]["max"] = 1.6
        (folder / "1.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        with pytest.raises(ChecklistImportError):
            import_tree(session, tmp_path, clock.now())


def test_the_repository_templates_import_and_round_trip(engine, clock, tmp_path):
    root = tmp_path / "checklists"
    shutil.copytree(REAL_CHECKLISTS, root)
    templates = load_all(root)
    assert templates, "no templates in checklists/"
    with Session(engine) as session:
        result = import_tree(session, root, clock.now())
        assert len(result.added) == len(templates)
        assert import_tree(session, root, clock.now()).added == []
        for key, template in templates.items():
            row = session.get(ChecklistTemplate, key)
            assert row.digest == template_digest(template)
            assert template_digest(template_of(row)) == row.digest
