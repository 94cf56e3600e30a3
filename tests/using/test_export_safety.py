"""`govcrawl export -o FILE` never clobbers: not its own archive, not an existing file without
--force, and never a half-written file when the export fails."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from govcrawl.store import read as R


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(govcrawl_cli, target: Path | str, *more: str):
    return govcrawl_cli("export", "--format", "jsonl", "-o", str(target), *more)


def test_export_refuses_to_write_onto_its_own_archive(devset_copy, tmp_path, govcrawl_cli):
    before = digest(devset_copy)
    link = tmp_path / "link.jsonl"
    link.symlink_to(devset_copy)
    wal = Path(f"{devset_copy}-wal")
    for target in (devset_copy, link, wal):
        for force in ((), ("--force",)):
            result = export(govcrawl_cli, target, *force)
            assert result.code == 2, (target, force, result)
            assert result.err.count("\n") == 1 and "archive being exported" in result.err
            assert digest(devset_copy) == before
    assert not wal.exists() or wal.stat().st_size == 0  # nothing written into the WAL
    assert govcrawl_cli("query", "--limit", "0").code == 0  # the archive still reads


def test_export_refuses_an_existing_file_without_force(devset_env, tmp_path, govcrawl_cli):
    target = tmp_path / "notes.jsonl"
    target.write_text("my notes\n", encoding="utf-8")
    result = export(govcrawl_cli, target)
    assert result.code == 2 and result.err.count("\n") == 1 and "--force" in result.err
    assert target.read_text(encoding="utf-8") == "my notes\n"
    result = export(govcrawl_cli, target, "--force")
    assert result.code == 0, result.err
    assert len([json.loads(line) for line in target.read_text("utf-8").splitlines()]) == 36
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.jsonl"]  # no temp file left


def test_stdout_export_is_unaffected(devset_env, govcrawl_cli):
    result = export(govcrawl_cli, "-")
    assert result.code == 0 and len(result.jsonl()) == 36


@pytest.mark.parametrize("existing", [True, False])
def test_a_failed_export_leaves_the_target_as_it_was(devset_env, tmp_path, govcrawl_cli,
                                                     monkeypatch, existing):
    real = R.iter_articles

    def failing(*args, **kwargs):
        for n, record in enumerate(real(*args, **kwargs)):
            if n == 5:
                raise OSError("disk full")
            yield record

    monkeypatch.setattr(R, "iter_articles", failing)
    target = tmp_path / "out.jsonl"
    if existing:
        target.write_text("the previous export\n", encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        export(govcrawl_cli, target, *(("--force",) if existing else ()))
    if existing:
        assert target.read_text(encoding="utf-8") == "the previous export\n"
    else:
        assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == (["out.jsonl"] if existing else [])
