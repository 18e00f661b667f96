"""The int8 path: export the saved transformer to ONNX, quantize it dynamically (int8
weights, activations quantized on the fly) and run it with ONNX Runtime.

It is kept only when its labels agree with the fp32 model's on the gold sentences at least
MIN_AGREEMENT of the time; the check is recorded in the model card either way, and a
refused int8 file is deleted so that only fp32 can be used.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from study.predict import predictors
from study.predict.predictors import BATCH_SIZE, softmax, tokenize_sorted

MIN_AGREEMENT = 0.99
INT8_FILE = "onnx/model.int8.onnx"
OPSET = 17


def export_int8(hf_dir: Path, out_file: Path) -> None:
    """hf_dir (safetensors + tokenizer) -> out_file, an int8-quantized ONNX graph."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from study.models import pooled

    tok = AutoTokenizer.from_pretrained(hf_dir)
    if pooled.is_pooled(hf_dir):
        import json

        n_classes = len(json.loads((Path(hf_dir) / "config.json").read_text(encoding="utf-8"))["id2label"])
        model = pooled.load(hf_dir, n_classes)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(hf_dir, use_safetensors=True, attn_implementation="eager").eval()
    sample = tok(["An example sentence.", "Another, somewhat longer example sentence for export."], padding=True, return_tensors="pt")
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]
    out_file.parent.mkdir(parents=True, exist_ok=True)
    fp32 = out_file.with_name("model.fp32.onnx")
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation and tracer notices
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(sample[k] for k in names), str(fp32), dynamo=False, input_names=names,
                          output_names=["logits"], opset_version=OPSET,
                          dynamic_axes={**{k: {0: "batch", 1: "tokens"} for k in names}, "logits": {0: "batch"}})
    import logging

    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)  # quantize_dynamic's "consider pre-processing" notice
    try:
        # per-channel scales: on the saved frame model 98.4% label agreement vs 94.3% per-tensor
        quantize_dynamic(str(fp32), str(out_file), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)
    fp32.unlink()  # fp32 runs in torch from the safetensors; only the int8 graph is kept


class OnnxPredictor:
    """An int8 ONNX graph with the saved tokenizer; same batching as the fp32 predictor."""

    def __init__(self, onnx_file: Path, hf_dir: Path, classes: list[str], max_length: int, batch_size: int = BATCH_SIZE):
        import onnxruntime as ort
        from transformers import AutoTokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = predictors.THREADS  # the same thread budget as torch
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(onnx_file), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own types (InvalidProtobuf, NoSuchFile, ...): a damaged file
            from study.errors import StudyError

            raise StudyError(f"not a loadable ONNX graph ({type(exc).__name__}); the saved model is damaged, "
                             "run `study train` again", onnx_file) from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tok = AutoTokenizer.from_pretrained(hf_dir)
        self.classes, self.max_length, self.batch_size = classes, max_length, batch_size

    def logits(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        for idx, batch in tokenize_sorted(self.tok, texts, self.max_length, self.batch_size):
            out[idx] = self.session.run(["logits"], {k: batch[k] for k in self.inputs})[0]
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax(self.logits(texts).astype(np.float64)) if texts else np.zeros((0, len(self.classes)))


def agreement(fp32, int8, texts: list[str]) -> dict:
    """Label agreement of the int8 predictor with fp32 on `texts`, and the largest
    probability difference (both recorded in the model card)."""
    p32, p8 = fp32.predict_proba(texts), int8.predict_proba(texts)
    same = p32.argmax(axis=1) == p8.argmax(axis=1)
    return {"agreement": float(same.mean()), "n_sentences": len(texts), "n_disagree": int((~same).sum()),
            "max_abs_proba_diff": float(np.abs(p32 - p8).max())}


def check_int8(model_dir: Path, fp32, hf_dir: Path, texts: list[str], classes: list[str], max_length: int,
               min_agreement: float = MIN_AGREEMENT) -> dict:
    """Export, quantize and check; keep the int8 file only when agreement >= min_agreement."""
    out_file = model_dir / INT8_FILE
    export_int8(hf_dir, out_file)
    result = agreement(fp32, OnnxPredictor(out_file, hf_dir, classes, max_length), texts)
    result.update(min_agreement=min_agreement, passed=result["agreement"] >= min_agreement,
                  file=INT8_FILE if result["agreement"] >= min_agreement else None,
                  method="torch.onnx (TorchScript exporter) + onnxruntime.quantization.quantize_dynamic (QInt8 weights, per channel)")
    if not result["passed"]:
        out_file.unlink()
        if not any(out_file.parent.iterdir()):
            out_file.parent.rmdir()
    return result
