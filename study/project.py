"""Where the study's files live, relative to a project root (the current folder by default)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
        except ValueError:
            return Path(path).as_posix()
