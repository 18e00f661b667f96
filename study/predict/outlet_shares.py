"""Per-outlet label shares from a predictions file, clearly labelled as predicted labels.

Shares estimated from predictions carry the classifier's errors (which differ by class), so
the tables say so; correcting them needs a labelled sample of the same coverage.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from study.errors import StudyError
from study.fileio import atomic_write_text

WARNING = ("These are PREDICTED labels, not gold labels. Shares estimated from predictions are biased by the "
           "classifier's errors (which differ by class) unless corrected with a labelled sample of the same coverage.")


def _read(path: Path) -> tuple[list[str], list[str], list[str], str]:
    """(outlets, labels, label set in model order, model id) of a `study predict` output."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise StudyError("not found; give a file written by `study predict`", path)
    if path.suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise StudyError(f"not a readable Parquet file ({str(exc).splitlines()[0]})", path) from None
        names, rows = table.column_names, None
        n_rows = table.num_rows
    elif path.suffix in (".jsonl", ".csv"):
        from study.predict.table_stream import iter_rows

        rows = [r for _, r in iter_rows(path)]
        names, n_rows = (list(rows[0]) if rows else []), len(rows)
    else:
        raise StudyError("must be a .parquet, .jsonl or .csv file written by `study predict`", path)
    if not n_rows:
        raise StudyError("holds no predictions (0 rows)", path)
    missing = [c for c in ("outlet", "label") if c not in names]
    classes = [c[2:] for c in names if c.startswith("p_")]
    if missing or not classes:
        raise StudyError(f"missing column(s) {', '.join(missing + ([] if classes else ['p_<class>']))}; "
                         "is it a `study predict` output?", path)
    get = (lambda c: table.column(c).to_pylist()) if rows is None else (lambda c: [r.get(c) for r in rows])
    labels = get("label")
    odd = sorted({str(x) for x in labels} - set(classes))
    if odd:  # "SUPPORT" beside p_support would silently fall out of every share
        raise StudyError(f"label(s) {', '.join(map(repr, odd[:3]))} have no p_ column; labels: {', '.join(classes)}", path)
    model = sorted(set(get("annotator_id"))) if "annotator_id" in names else []
    return get("outlet"), labels, classes, ", ".join(map(str, model))


def predicted_share_table(predictions_path: Path) -> list[dict]:
    """One dict per outlet (then 'all outlets'): outlet, n, and per label its count and share."""
    outlets, labels, classes, _ = _read(Path(predictions_path))
    groups: dict[str, Counter] = {}
    for o, lab in zip(outlets, labels):
        groups.setdefault(o or "(no outlet)", Counter())[lab] += 1
    out = []
    for outlet, counts in sorted(groups.items()) + [("all outlets", sum(groups.values(), Counter()))]:
        n = sum(counts.values())
        row = {"outlet": outlet, "n": n}
        for c in classes:
            row[f"count_{c}"] = counts.get(c, 0)
            row[f"share_{c}"] = counts.get(c, 0) / n if n else 0.0
        out.append(row)
    return out


FILES = ("predicted_shares.md", "predicted_shares.csv", "predicted_shares.png", "predicted_shares.svg")


def write_predicted_tables(predictions_path: Path, source: str, out_dir: Path, force: bool = False) -> list[Path]:
    """predicted_shares.md/.csv and a stacked-bar figure (predicted_shares.png/.svg) in out_dir;
    `source` is the predictions file as the table records it."""
    from study.formatting.numbers import fmt_pct
    from study.formatting.tables import md_cell
    from study.outputs import claim_folder, record_file

    claim_folder(out_dir, "predicted-tables", force=force, inputs={"--predictions": predictions_path}, names=FILES)

    rows = predicted_share_table(predictions_path)
    _, _, classes, model = _read(predictions_path)
    used = [c for c in classes if rows[-1][f"count_{c}"] > 0]
    md = ["# Per-outlet shares of predicted labels", "", f"> **Warning.** {WARNING}", "",
          f"Source: `{source}` (model {model or 'unknown'}); one row per outlet; share of its sentences with each "
          "predicted label (count in brackets); labels never predicted are omitted.", "",
          "| outlet | n | " + " | ".join(f"predicted {c}" for c in used) + " |",
          "|---|---:|" + "---:|" * len(used)]
    for r in rows:
        md.append(f"| {md_cell(r['outlet'])} | {r['n']} | " + " | ".join(f"{fmt_pct(r[f'share_{c}'], 1)} ({r[f'count_{c}']})" for c in used) + " |")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["# predicted labels, not gold: " + WARNING])
    writer.writerow(list(rows[0]))
    for r in rows:
        writer.writerow([f"{v:.6f}" if isinstance(v, float) else v for v in r.values()])
    paths = [out_dir / "predicted_shares.md", out_dir / "predicted_shares.csv"]
    atomic_write_text(paths[0], "\n".join(md) + "\n")
    atomic_write_text(paths[1], buf.getvalue())
    paths += _figure(rows, used, model, out_dir)
    for path in paths:
        record_file(path, "predicted-tables")
    return paths


def _figure(rows: list[dict], used: list[str], model: str, out_dir: Path) -> list[Path]:
    import numpy as np

    from study.formatting.figures import stacked_bar_figure

    return stacked_bar_figure(
        out_dir / "predicted_shares", f"PREDICTED labels by outlet (model {model or 'unknown'}; not gold)",
        [f"{r['outlet']} (n={r['n']})" for r in rows], used, np.array([[r[f"count_{c}"] for c in used] for r in rows]),
        "share of the outlet's sentences (predicted; biased by classifier errors unless corrected)", "outlet")
