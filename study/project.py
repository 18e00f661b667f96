"""Where the study's files live, relative to a project root (the current folder by default)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from study.errors import StudyError


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def articles_dir(self) -> Path:
        return self.root / "corpus" / "articles"

    @property
    def manifest(self) -> Path:
        return self.root / "corpus" / "articles.csv"

    @property
    def sentences(self) -> Path:
        return self.root / "corpus" / "sentences.jsonl"

    @property
    def annotations_dir(self) -> Path:
        return self.root / "labels" / "annotations"

    @property
    def gold(self) -> Path:
        return self.root / "labels" / "gold.jsonl"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def runs_dir(self) -> Path:
        return self.results / "runs"

    @property
    def configs_dir(self) -> Path:
        return self.root / "configs"

    def rel(self, path: Path) -> str:
        """Path relative to the root, for messages and manifests (never absolute)."""
        try:
            return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):  # outside the root, or a symlink loop
            try:
                return Path(os.path.abspath(path)).relative_to(os.path.abspath(self.root)).as_posix()
            except ValueError:
                return Path(path).as_posix()

    def arg_path(self, value: str | None) -> Path | None:
        """A path given on the command line: a relative one is under --root, like every
        other path of a command (so `study --root P train configs/x.yaml` works from anywhere)."""
        if value is None:
            return None
        path = Path(value)
        return path if path.is_absolute() else self.root / path

    @property
    def passes_file(self) -> Path:
        return self.root / "labels" / "passes.yaml"

    def resolve_inside(self, rel: str, what: str, allow_outside: bool = False, base: Path | None = None) -> Path:
        """The path `rel` (relative to `base`, default the project root) as an absolute path,
        symlinks followed; a StudyError naming `what` (the key) and the value when it
        resolves outside the project root, unless `allow_outside`. Absolute values are
        judged the same way, so `/etc/passwd` or `../x.csv` never slip in unnoticed."""
        if not isinstance(rel, str) or not rel.strip():
            raise StudyError(f"{what}: {rel!r} is empty; give a path inside the project folder")
        if "\x00" in rel:
            raise StudyError(f"{what}: {rel!r} contains a NUL character; give a plain path inside the project folder")
        path = (Path(base) if base is not None else self.root) / rel
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError) as exc:  # symlink loops
            raise StudyError(f"{what}: {rel!r} cannot be resolved ({exc})") from None
        root = self.root.resolve()
        if not allow_outside and resolved != root and root not in resolved.parents:
            raise StudyError(f"{what}: {rel!r} points outside the project folder; only files inside it may be used")
        return resolved
