"""Saved models and corpus-scale prediction: `study train` and `study predict`.

    study train configs/frame_transformer.yaml      -> models/frame_transformer-<hash>/
    study predict --model models/<...> --input articles/ --output predictions.parquet

Modules, one job each: `train` (fit on all gold labels and save), `persist` (safe formats
on disk, loading refuses pickle), `predictors` (a loaded model's predict_proba), `card`
(the model card), `onnx_int8` (int8 export and its agreement check), `segment_input`
(articles or sentences from folders and tables, in chunks), `stream` (chunked, resumable
prediction into Parquet/JSONL), `progress`, `ray_engine` (the same on Ray Data) and
`outlet_shares` (per-outlet tables from a predictions file).
"""
