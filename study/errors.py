"""One exception type for problems in the user's data or config.

The CLI prints these as one clear line each and exits non-zero; it never shows a traceback
for bad input. An error about a file keeps the real path; it is made relative only when
shown: by the CLI to the project root, by str() to the current folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def shown_path(path, root: Path | None = None) -> str:
    """`path` relative to `root` (or the current folder) when inside it, else as given; a
    str is a name as the user gave it (e.g. a config value) and is shown as it is."""
    if isinstance(path, str):
        return path
    path = Path(path)
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return path.resolve().relative_to(Path(base).resolve()).as_posix()
        except (ValueError, OSError, RuntimeError):  # outside, or a symlink loop: compare without resolving
            try:
                return Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).as_posix()
            except ValueError:
                continue
    return path.as_posix()


class StudyError(Exception):
    """A problem with input data or configuration, described for the user. With a `path`
    (and optionally a `line`, int or "LINE:COLUMN") it reads "<path>[:<line>]: <text>", or
    as `template` says (e.g. "--output {path}: {text}"). The text names any other file
    as "{name}", its path given in `also`."""

    def __init__(self, text: str = "", path=None, *, line=None, template: str = "{path}: {text}",
                 also: dict | None = None):
        super().__init__(text)
        self.text, self.path, self.line, self.template, self.also = text, path, line, template, also or {}

    def render(self, root: Path | None = None) -> str:
        """The message, its path relative to `root` (or the current folder)."""
        text = self.text
        for name, other in self.also.items():  # more files, named "{name}" in the text
            text = text.replace("{" + name + "}", shown_path(other, root))
        if self.path is None:
            return text
        where = shown_path(self.path, root) + (f":{self.line}" if self.line is not None else "")
        # a text of several lines (a config's problems) names the file on each
        return "\n".join(self.template.format(path=where, text=t) for t in text.split("\n"))

    def __str__(self) -> str:
        return self.render()

    def extended(self, more: str) -> "StudyError":
        """The same error about the same file, `more` added to its text."""
        return StudyError(self.text + more, self.path, line=self.line, template=self.template, also=self.also)


def render(problem, root: Path | None = None) -> str:
    """A problem line (a str, or a StudyError naming its file) as shown to the user."""
    return problem.render(root) if isinstance(problem, StudyError) else str(problem)


class ProblemList(StudyError):
    """Several independent problems found at once (validation); each a str or a StudyError."""

    def __init__(self, problems: list):
        self.problems = list(problems)
        super().__init__("\n".join(map(render, self.problems)))

    def lines(self, root: Path | None = None) -> list[str]:
        return [render(p, root) for p in self.problems]

    def render(self, root: Path | None = None) -> str:
        return "\n".join(self.lines(root))
