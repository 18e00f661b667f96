"""Shared fixtures for the corpus, validation, label and dataset tests.

- `project_copy`: a private copy of the repository's corpus/, labels/ (and configs/) in a
  temporary folder, so a test may edit or break any file without touching the repo.
- `tiny_project`: a hand-made two-article project (no labels) whose sentences are known by
  reading the article texts below; for unit tests where one problem must give one line.
- `run_cli(root, *args)`: runs `study --root ROOT ARGS...` in-process and returns
  (exit_code, stdout, stderr). Any exception other than the CLI's own handled errors
  propagates, so a traceback on bad input fails the test that provoked it.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the package is used from the checkout (not necessarily installed)
    sys.path.insert(0, str(REPO))

from study.project import Project  # noqa: E402

COPIED = ("corpus", "labels", "configs")


def run_cli(root, *args: str) -> tuple[int, str, str]:
    """`study --root ROOT ARGS...` in-process: (exit code, stdout, stderr)."""
    from study.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["--root", str(root), *map(str, args)])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(name="run_cli")
def run_cli_fixture():
    return run_cli


def copy_repo_data(dest: Path) -> Project:
    for name in COPIED:
        src = REPO / name
        if src.exists():
            shutil.copytree(src, dest / name)
    return Project(dest)


@pytest.fixture
def project_copy(tmp_path) -> Project:
    """A writable copy of the repo's corpus/, labels/ and configs/ under tmp_path."""
    return copy_repo_data(tmp_path)


@pytest.fixture
def repo_project() -> Project:
    """The repository itself, for read-only checks. Never write through this."""
    return Project(REPO)


# --- the tiny hand-made project ------------------------------------------------------------

# Sentences by reading (paragraph = non-blank line):
#   t1 p1: "Sheriffs received a federal request on Thursday." | "Alpha News reported the letter."
#   t1 p2: "“We will follow state law,” the sheriff said."
#   t2 p1: "Rep. Jane Doe (D-Calif.) criticized the request." | "She called it unlawful."
#   t2 p2: "The county has not responded."
TINY_ARTICLES = {
    "t1": "Sheriffs received a federal request on Thursday. Alpha News reported the letter.\n"
          "\n"
          "“We will follow state law,” the sheriff said.\n",
    "t2": "Rep. Jane Doe (D-Calif.) criticized the request. She called it unlawful.\n"
          "The county has not responded.\n",
}
TINY_EXPECTED = {
    "t1-p01-s01": "Sheriffs received a federal request on Thursday.",
    "t1-p01-s02": "Alpha News reported the letter.",
    "t1-p02-s01": "“We will follow state law,” the sheriff said.",
    "t2-p01-s01": "Rep. Jane Doe (D-Calif.) criticized the request.",
    "t2-p01-s02": "She called it unlawful.",
    "t2-p02-s01": "The county has not responded.",
}
TINY_MANIFEST = (
    "article_id,file,outlet_id,outlet,attribution,publication_date,byline,evidence,notes\n"
    "t1,articles/t1.txt,alpha,Alpha News,stated_in_text,2025-07-17,,Alpha News reported the letter.,fixture\n"
    "t2,articles/t2.txt,unattributed_t2,Unattributed (t2),unattributed,,,,fixture\n"
)


def make_tiny_project(root: Path, segment: bool = True) -> Project:
    project = Project(root)
    project.articles_dir.mkdir(parents=True)
    for article_id, text in TINY_ARTICLES.items():
        (project.articles_dir / f"{article_id}.txt").write_text(text, encoding="utf-8")
    project.manifest.write_text(TINY_MANIFEST, encoding="utf-8")
    if segment:
        from study.corpus import segment_corpus, write_sentences

        sentences, _ = segment_corpus(project)
        write_sentences(project, sentences)
    return project


@pytest.fixture
def tiny_project(tmp_path) -> Project:
    """Two short articles, their manifest and corpus/sentences.jsonl; no labels."""
    return make_tiny_project(tmp_path / "tiny")


# --- small helpers for editing JSONL files in tests ----------------------------------------

def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def codable(rows: list[dict]) -> dict[str, dict]:
    """Gold rows by id as a coder could submit them through Label Studio today: at most two
    secondary frames, none the primary (CODEBOOK.md §2; the import refuses more). One committed
    gold row (a000-p09-s02) lists three, from before that check; it awaits re-adjudication."""
    out = {}
    for r in rows:
        secondary = [f for f in dict.fromkeys(r.get("frames_secondary") or []) if f != r.get("frame")][:2]
        out[r["id"]] = {**r, "frames_secondary": secondary}
    return out


def write_rows(path: Path, rows: list[dict]) -> None:
    Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def problem_lines(stderr: str) -> list[str]:
    """The problem lines of `study validate` (everything but the final count line)."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("validate: ")]


PER_ARTICLE = 8  # sentences kept per article in the small fixture


def _small_project(tmp_path: Path) -> Project:
    """A project holding the real articles but only the first few sentences of each, with
    their real annotations and gold labels: small enough to run every config quickly."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "corpus" / "articles", root / "corpus" / "articles")
    shutil.copy(REPO / "corpus" / "articles.csv", root / "corpus" / "articles.csv")
    shutil.copytree(REPO / "configs", root / "configs")
    (root / "labels" / "annotations").mkdir(parents=True)
    kept, per_article = [], {}
    for line in (REPO / "corpus" / "sentences.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if per_article.get(row["article_id"], 0) < PER_ARTICLE:
            per_article[row["article_id"]] = per_article.get(row["article_id"], 0) + 1
            kept.append(line)
    ids = {json.loads(line)["id"] for line in kept}
    (root / "corpus" / "sentences.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    for extra in ("passes.yaml", "CODEBOOK.md"):
        if (REPO / "labels" / extra).exists():
            shutil.copy(REPO / "labels" / extra, root / "labels" / extra)
    for src in [REPO / "labels" / "gold.jsonl", *(REPO / "labels" / "annotations").glob("*.jsonl")]:
        dst = root / "labels" / src.relative_to(REPO / "labels")
        lines = [l for l in src.read_text(encoding="utf-8").splitlines() if json.loads(l)["id"] in ids]
        dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Project(root)


@pytest.fixture
def small_project(tmp_path):
    return _small_project(tmp_path)


# Headless Chromium for the report-rendering checks (tests/test_tables_report.py, tests/test_report_brief.py).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# JavaScript run after the load event: the captions of tables wider than their scroll box, on <body>
# as data-clipped (issue 21: the comparison column was clipped at 1300 px).
CLIPPED_JS = """  var clipped = Array.prototype.slice.call(document.querySelectorAll('.scroll')).filter(function (d) {
    return d.scrollWidth > d.clientWidth + 1; }).map(function (d) {
    var c = d.querySelector('caption'); return c ? c.textContent.slice(0, 40) : '?'; });
  document.body.setAttribute('data-clipped', clipped.join(' | '));"""


def find_chromium() -> str | None:
    return next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)
