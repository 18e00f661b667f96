"""The round trip against a real Label Studio server (its own venv, `make labelstudio`).

Tasks and labeling config from `study annotate export` go into a fresh Label Studio (SQLite in
a temporary folder, a free port, outbound network blocked); one annotation per task, taken from
the gold labels, is submitted through the HTTP API; the project's JSON export comes back through
`study annotate import`, and the imported rows must equal what was submitted, field for field.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from conftest import codable, REPO, read_rows
from test_annotate import CODED, declare_pass

from study.annotate.importer import result_for_row
from study.codebook import ANNOTATORS, CODEBOOK_VERSION

pytestmark = pytest.mark.slow
LABEL_STUDIO = REPO / ".venv-labelstudio" / "bin" / "label-studio"
TOKEN = "study-roundtrip-token-0123456789"
START_TIMEOUT_S = 420  # the first start migrates a fresh SQLite database: minutes on a busy machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    """Plain HTTP calls to Label Studio with its legacy token; never through a proxy."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __call__(self, method: str, path: str, body=None, timeout: float = 120):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code}: {exc.read()[:500]!r}") from None


@pytest.fixture
def label_studio(tmp_path):
    if not LABEL_STUDIO.exists():
        pytest.skip("Label Studio is not installed: run `make labelstudio` (creates .venv-labelstudio/)")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update({
        "HOME": str(tmp_path / "home"),  # Label Studio also writes under ~/.local/share
        "LABEL_STUDIO_USERNAME": "roundtrip@example.org", "LABEL_STUDIO_PASSWORD": "roundtrip-password",
        "LABEL_STUDIO_USER_TOKEN": TOKEN, "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        # no network: no version check, analytics or error reporting, and any other call fails fast
        "LATEST_VERSION_CHECK": "false", "COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
    })
    log_path = tmp_path / "label-studio.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(LABEL_STUDIO), "start", "--no-browser", "--internal-host", "127.0.0.1",
                                 "--port", str(port), "--data-dir", str(tmp_path / "ls-data")],
                                env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = Api(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"label-studio exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                api("GET", "/api/projects", timeout=10)
                break
            except (urllib.error.URLError, ConnectionError, OSError, AssertionError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"label-studio did not answer within {START_TIMEOUT_S}s:\n{log_path.read_text()[-3000:]}")
                time.sleep(2)
        yield api
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the server and its reloader child
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_label_studio_round_trip_is_exact(label_studio, project_copy, run_cli, monkeypatch):
    api = label_studio
    root = project_copy.root
    monkeypatch.setitem(ANNOTATORS, "coder_ls", "Coder LS: labels submitted through Label Studio's API")
    declare_pass(project_copy, "coder_ls")
    code, _, stderr = run_cli(root, "annotate", "export", "--sample", "all", "--out", root / "ls")
    assert code == 0, stderr
    tasks = json.loads((root / "ls" / "tasks.json").read_text())

    project = api("POST", "/api/projects", {"title": "study round trip",
                                            "label_config": (root / "ls" / "config.xml").read_text()})
    imported = api("POST", f"/api/projects/{project['id']}/import", tasks)
    assert imported["task_count"] == len(tasks)
    server_tasks = api("GET", f"/api/tasks?project={project['id']}&page_size={len(tasks) + 10}")["tasks"]
    task_ids = {t["data"]["sentence_id"]: t["id"] for t in server_tasks}
    assert len(task_ids) == len(tasks)

    # what the coder submits: the gold labels, plus a note on every fifth sentence (the TextArea)
    sentences = read_rows(project_copy.sentences)
    gold = codable(read_rows(project_copy.gold))
    submitted = {}
    for n, s in enumerate(sentences):
        row = {"id": s["id"], "hash": s["hash"], **{k: gold[s["id"]][k] for k in CODED}, "annotator": "coder_ls",
               "annotator_kind": "person", "codebook_version": CODEBOOK_VERSION,
               "note": f"hard call: rule {n}" if n % 5 == 0 else ""}
        submitted[s["id"]] = row
        api("POST", f"/api/tasks/{task_ids[s['id']]}/annotations", {"result": result_for_row(row), "was_cancelled": False})

    export = api("GET", f"/api/projects/{project['id']}/export?exportType=JSON", timeout=300)
    assert len(export) == len(tasks)
    (root / "ls-export.json").write_text(json.dumps(export))
    code, _, stderr = run_cli(root, "annotate", "import", "ls-export.json", "--annotator", "coder_ls", "--kind", "person")
    assert code == 0, stderr

    rows = read_rows(project_copy.annotations_dir / "coder_ls.jsonl")
    assert rows == [submitted[s["id"]] for s in sentences]  # exact: every field, every sentence, corpus order
    code, _, stderr = run_cli(root, "validate")
    assert code == 0, stderr
