"""study.outputs.replace_folder, the swap behind `study run --force` and `study train --force`:
a complete new folder takes the old one's name, and a failure between the two renames puts
the old folder back instead of leaving it hidden under its aside name."""

from __future__ import annotations

from pathlib import Path

import pytest

from study.outputs import replace_folder, seal


def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "weights.txt").write_text(text)
    seal(path, "train")  # made by the tool: its marker lists weights.txt
    return path


def test_the_new_folder_replaces_the_old_one(tmp_path: Path):
    final = _folder(tmp_path / "model", "old")
    new = _folder(tmp_path / ".model.tmp", "new")
    replace_folder(new, final, tmp_path / ".model.old")
    assert (final / "weights.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # neither the temporary nor the old one is left


def test_a_new_folder_is_renamed_when_there_is_none_to_replace(tmp_path: Path):
    new = _folder(tmp_path / ".model.tmp", "new")
    replace_folder(new, tmp_path / "model", tmp_path / ".model.old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_failure_between_the_renames_puts_the_old_folder_back(tmp_path: Path, monkeypatch):
    final = _folder(tmp_path / "model", "old")
    new = _folder(tmp_path / ".model.tmp", "new")
    aside = tmp_path / ".model.old"
    rename = Path.rename

    def failing(self, target):
        if self == new:  # the second rename: the old folder is already aside
            assert aside.is_dir() and not final.exists()
            raise OSError(28, "No space left on device")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError):
        replace_folder(new, final, aside)
    assert (final / "weights.txt").read_text() == "old"
    assert not aside.exists()


def test_train_force_keeps_the_old_model_when_the_swap_fails(small_project, monkeypatch, run_cli):
    """`study train --force` once left the old model hidden under .<name>.old-<pid> when the
    rename of the new folder failed."""
    assert run_cli(small_project.root, "train", "configs/stance_tfidf_logreg.yaml")[0] == 0
    models = small_project.root / "models"
    (final,) = models.iterdir()
    sealed = (final / "study_model.json").read_bytes()
    rename = Path.rename

    def failing(self, target):
        if Path(target) == final and ".tmp-" in self.name:
            raise OSError(28, "No space left on device")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    code, _, err = run_cli(small_project.root, "train", "--force", "configs/stance_tfidf_logreg.yaml")
    assert code != 0
    assert sorted(p.name for p in models.iterdir()) == [final.name]  # back at its name; no .old- or .tmp- left
    assert (final / "study_model.json").read_bytes() == sealed


def test_an_old_folder_the_tool_did_not_make_is_never_deleted(tmp_path: Path):
    """Files of the old folder that the tool did not write survive the swap: moved into the
    new folder when their name is free, else kept in the aside folder."""
    final = tmp_path / "model"
    final.mkdir()
    (final / "weights.txt").write_text("someone's")
    (final / "notes.txt").write_text("mine")
    new = _folder(tmp_path / ".model.tmp", "new")
    replace_folder(new, final, tmp_path / ".model.old")
    assert (final / "weights.txt").read_text() == "new" and (final / "notes.txt").read_text() == "mine"
    assert (tmp_path / ".model.old" / "weights.txt").read_text() == "someone's"
