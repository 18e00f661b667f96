"""The words of the extension report: fixed paragraphs, the limits, and the findings written
from the numbers (so every number in the text is the one in the tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from study.formatting.numbers import fmt_p, fmt_pct, fmt_pct_ci

TITLE = "Immigration coverage across outlets (AllSides corpus): frames, stance and sentiment by outlet leaning"

ABILITY_INTRO = (
    "The shares below rest on classifiers trained on this corpus' own coded sentences. Each task's model ({models}) "
    "is cross-fitted: the coded sample "
    "is split into 5 folds, every coded sentence of an article in one fold; each coded sentence is predicted by the "
    "model fitted without its fold, every other sentence by the mean of the 5 models. So the scores below are out of "
    "sample, and the same predictions enter the estimates (cross-prediction-powered inference, Zrnic and Candès "
    "2024). They are trained on the coded sentences alone: adding the five-article gold changed out-of-fold "
    "macro-F1 within noise (results/five_article_gold.md). The five-article models (trained on the main study's 116 gold sentences about one 2025 event) are scored "
    "on the same sentences for comparison; they are no longer used for estimates. All labels here are model-made: "
    "two blind passes by instances of one language model, adjudicated by a third; no person has checked them."
)
ABILITY_CAPTION = (
    "Against the adjudicated gold of the non-excluded coded sentences; macro-F1 over the classes present in the gold. "
    "In-domain: out-of-fold predictions, 95% percentile-bootstrap interval over articles (2,000 resamples); "
    "five-article models: over sentences. Fits that learned: training-fold accuracy above the majority share and "
    "outputs not near-uniform (the study's learning check).")
CONTRAST_INTRO = (
    "Estimand: the difference between two leanings in a label's share of all their sentences. The leaning is a "
    "rating of the outlet (AllSides), so outlets are the units: the 95% interval is a two-stage cluster bootstrap "
    "(outlets within each leaning, then articles within each outlet; 2,000 resamples), p permutes the leaning "
    "across outlets (scipy.stats.permutation_test, 9,999 permutations), Holm corrects across the labels tested in "
    "each table. Each share is the cross-PPI estimate: the mean predicted probability over the leaning's uncoded "
    "sentences, corrected by the mean gold-minus-predicted difference over its coded ones, the predictions weighted "
    "by lambda (PPI++, one per label from both leanings). A label with fewer than 5 coded sentences in either "
    "leaning is not tested.")
CONTRAST_CAPTION = ("coded k: coded sentences of the label. Width: the PPI interval's width beside the labelled-only "
                    "estimator's on the same resamples, in points.")
ESTIMATES_INTRO = (
    "Shares of sentences per label, in %, with 95% intervals. PPI: the cross-fitted predictions' share corrected by "
    "the coded sample (power-tuned, CLT interval); labelled only: the share among the group's coded sentences "
    "(Wilson); naive: the share of predicted labels over all sentences of the group (Wilson; it inherits the "
    "classifier's errors, and its interval reflects only sampling noise). Only the labelled-only and PPI intervals "
    "are valid, because the coded sentences are a simple random sample of the same sentences. Sentences the "
    "codebook excludes (page boilerplate) are their own category '(excluded)', so the shares are shares of all "
    "sentences; the classifiers never predict it, so its naive share is 0. These intervals treat sentences as the "
    "draws (the sample is a random sample of sentences); the contrasts above are the ones with outlets as units."
)
DAGGER = ("†: no (or only) labelled sentences of this label in the group; the PPI (CLT) interval is unreliable there. "
          "A PPI point estimate can fall slightly below 0 (its interval is clipped to [0, 100], the point is not).")
MORE_FRAMES = ("Frames with a PPI share under 3% over the whole corpus are left out of these tables; every label and "
               "group is in estimates/shares_<task>_by_leaning.md and .csv (and _by_outlet).")
OUTLETS_INTRO = (
    "An outlet is shown on its own only where at least 30 of its sentences were coded; the others of each leaning are "
    "pooled as 'other outlets (<leaning>)'. These describe the outlets' immigration coverage in this corpus; they do "
    "not support rankings between outlets (the contrasts above are the tests)."
)
OUTLETS_CAPTION = ("Cross-PPI share of sentences, % [95% CI], with the number of coded sentences of the frame in the "
                   "outlet (k); ‡: fewer than 5, not for findings. The five most frequent frames; every frame is in "
                   "estimates/shares_frame_by_outlet.md.")
AGREEMENT_INTRO = (
    "Each coding round was coded by two blind passes by fresh-context instances of one large language model "
    "(kind: model), with codebook 1.1 + addendum A1, brought in through Label Studio's export format (round 1: "
    "ext_a, ext_b, 320 sentences; round 2: ext_c, ext_d, 880 sentences, whose input held only an opaque key, the "
    "sentence and its neighbours). Disagreements were adjudicated sentence by sentence by a third instance "
    "(ext_adjudicator), citing the rule. Agreement between instances of one model shows that the codebook can be "
    "followed the same way twice; it is not evidence that the labels are valid."
)
LIMITS = [
    "Leaning is the AllSides rating of the outlet at crawl time, not a rating of the article or of the sentence.",
    ("Coverage: the articles AllSides collected on its immigration topic, mostly 2012-2020 (2001 to July 2020); "
     "not a sample of all immigration news, and outlets differ in how many articles they contribute; the contrasts "
     "weight outlets by their sentences in this corpus."),
    ("The contrasts treat the outlets of a leaning as draws from that leaning's outlets; with about 20 outlets per "
     "side the cluster bootstrap interval can be somewhat too narrow, and the permutation p is the check that does "
     "not rely on it."),
    ("All labels are model-made: passes by instances of one language model, adjudicated by another instance. The "
     "agreement is reproducibility, not validity; no person has checked these labels, and a misreading of the "
     "codebook shared by the instances is invisible here."),
    ("With few coded sentences of a label in a cell, the CLT intervals can under-cover (results/coverage.md): no "
     "finding rests on fewer than 5 coded sentences of a label in a cell."),
    "Frame is one primary label per sentence; secondary frames are kept in the gold file but not estimated.",
]


def flag_finding(task: str, record: dict) -> str:
    """The study's learning check on a cross-fit, in words: which fits it flags and what they still do."""
    fits = [f for f in record["learning"]["fits"] if f.get("flag")]
    m, k = record["ability"]["majority_share"], len(record["ability"]["labels_scored"])
    what = "; ".join(f"fold {f['fold']}: training accuracy {f['train_accuracy']:.3f}, majority share {f['majority_share']:.3f}"
                     for f in fits)
    return (f"The study's learning check flags {len(fits)} of {record['learning']['n_fits']} {task} fits ({what}): it "
            "compares plain training accuracy with the majority share, and these class-weighted regressions trade "
            f"majority-class accuracy for minority recall. Out of fold the {task} model's macro-F1 is "
            f"{record['ability']['macro_f1']:.2f}, against {2 * m / (1 + m) / k:.2f} for always answering the majority "
            "class. The estimates stay valid with any predictor (PPI corrects its errors on the coded sample, and power "
            "tuning weights it by its correlation with the gold); they gain less from a weak one.")


def _ci(row: pd.Series, kind: str) -> str:
    return f"{fmt_pct(row[f'{kind}_share'], 1)} {fmt_pct_ci(row[f'{kind}_low'], row[f'{kind}_high'], 1)}"


def _row(df: pd.DataFrame, group: str, label: str) -> pd.Series:
    return df[(df["group"] == group) & (df["label"] == label)].iloc[0]


def contrast_finding(task: str, c: pd.DataFrame, a: str, b: str) -> str:
    """One task's leaning contrast in words: estimand, unit, n, corrected p."""
    tested = c[c["tested"]]
    first = c.iloc[0]
    head = (f"{task.capitalize()}, {a} minus {b} (difference in a label's share of all sentences; units: "
            f"{int(first[f'outlets_{a}'])} and {int(first[f'outlets_{b}'])} outlets, {int(first[f'n_{a}'])} and "
            f"{int(first[f'n_{b}'])} coded sentences; cross-PPI; Holm over the {len(tested)} labels with at least 5 "
            f"coded sentences on each side, {len(c) - len(tested)} not tested)")
    if tested.empty:
        return head + ": no label has enough coded sentences to test."

    def one(r) -> str:
        return (f"{r['label']} {fmt_pct(r[f'share_{a}'], 1)} vs {fmt_pct(r[f'share_{b}'], 1)}, difference "
                f"{fmt_pct(r['difference'], 1, sign=False)} points {fmt_pct_ci(r['low'], r['high'], 1)}, p "
                f"{fmt_p(r['p'], int(r['permutations']))}, Holm p {fmt_p(r['p_holm'], int(r['permutations']))}")
    survive = tested[tested["p_holm"] < 0.05]
    if survive.empty:
        return head + f": no share differs after correction; the smallest p is {one(tested.loc[tested['p'].idxmin()])}."
    return head + ": " + "; ".join(one(r) for _, r in survive.sort_values("p").iterrows()) + " (these survive Holm)."


def across_tasks(contrasts: dict, a: str, b: str) -> str:
    """Holm over every test of every task: the stricter reading of the family."""
    from study.stats import holm_adjust

    tests = [(t, r) for t, c in contrasts.items() for _, r in c[c["tested"]].iterrows()]
    if not tests:
        return "No contrast has enough coded sentences to test."
    adjusted = holm_adjust([r["p"] for _, r in tests])
    keep = [f"{t} {r['label']} (Holm p {fmt_p(p, int(r['permutations']))})" for (t, r), p in zip(tests, adjusted) if p < 0.05]
    return (f"With Holm over all {len(tests)} tests of the three tasks at once, "
            + (("what still differs between " + a + " and " + b + " outlets is " + ", ".join(keep)) if keep else
               "no difference survives") + ".")


def findings(records: dict, five: list[dict], contrasts: dict, est: dict, groups: list[str], frame_labels: list[str],
             agree: list[dict]) -> list[str]:
    """The findings, classifier ability first, then the contrasts, then the shares."""
    a, b = groups[0], groups[-1]
    ability = "; ".join(f"{t} {r['ability']['macro_f1']:.2f} [{r['ability']['macro_f1_ci_articles'][0]:.2f}, "
                        f"{r['ability']['macro_f1_ci_articles'][1]:.2f}]" for t, r in records.items())
    n_coded = next(iter(records.values()))["n_coded"] + next(iter(records.values()))["n_coded_excluded"]
    out = [f"The in-domain classifiers, cross-fitted over 5 folds of the {n_coded:,} coded sentences (articles kept "
           f"whole), reach out-of-fold macro-F1 {ability} (95% intervals over articles)"
           + ("; the five-article models reach " + ", ".join(f"{s['field']} {s['macro_f1']:.2f}" for s in five)
              + " on the same sentences" if five else "") + ". All labels are model-made (language-model passes, adjudicated)."]
    out += [flag_finding(t, r) for t, r in records.items() if any(f.get("flag") for f in r["learning"]["fits"])]
    out += [contrast_finding(t, c, a, b) for t, c in contrasts.items()]
    out.append(across_tasks(contrasts, a, b))
    ratios = np.concatenate([((c["high"] - c["low"]) / c["width_labelled"])[c["tested"]].to_numpy() for c in contrasts.values()])
    if len(ratios):
        out.append(f"The predictions narrow the tested contrasts' intervals to a median {np.median(ratios):.2f} of the "
                   f"labelled-only width (range {ratios.min():.2f} to {ratios.max():.2f}, same resamples).")
    frame_lean = est[("frame", "leaning")]
    whole = frame_lean[frame_lean["group"] == "(all)"]
    top = ", ".join(f"{lab} {_ci(_row(frame_lean, '(all)', lab), 'ppi')}" for lab in [x for x in frame_labels if x != "(excluded)"][:3])
    out.append(f"Over all {int(whole['naive_n'].iloc[0]):,} sentences (n = {int(whole['labelled_n'].iloc[0]):,} coded; "
               f"sentences as units), the most frequent primary frames by cross-PPI are {top}.")
    stance = est[("stance", "leaning")]
    parts = ", ".join(f"{lab} {_ci(_row(stance, '(all)', lab), 'ppi')}" for lab in ("support", "oppose", "neutral")
                      if lab in set(stance["label"]))
    out.append(f"Stance toward stricter immigration enforcement over all sentences (cross-PPI): {parts}.")
    if agree:
        alphas = ", ".join(f"{r['field']} {float(r['krippendorff_alpha']):.2f}" for r in agree if "frame" in r["field"] or "stance" in r["field"])
        out.append(f"The blind passes (instances of one language model) agree with Krippendorff's alpha {alphas} "
                   "(reproducibility, not validity).")
    return out


def provenance(records: dict, five: list[dict]) -> list[str]:
    models = "; ".join(f"{s['field']}: models/{s['model']} (`study train configs/{s['field']}_embed_logreg.yaml`)" for s in five)
    crossfit = "; ".join(f"{t}: {r['config']} ({r['annotator_id']}, {r['seconds']['total']:.0f} s)" for t, r in records.items())
    return [
        ("Data: AllSides corpus of Baly et al. (EMNLP 2020), ramybaly/Article-Bias-Prediction, Apache-2.0; topic "
         "immigration, 1,547 articles (data/articles.jsonl.gz; see NOTICE and data/ATTRIBUTION.md)."),
        ("Sample: sample/sample_sentences.jsonl, a simple random sample of 1,200 of the 61,140 sentences (seed 11; "
         "nested: round 1 = the first 320, round 2 = the next 880; coding/rounds.yaml)."),
        ("Labels: coding/round<N>/labels/raw/ -> Label Studio JSON exports -> `study annotate import` -> "
         "coding/round<N>/labels/annotations/; gold: labels/gold.jsonl (both rounds; codebook 1.1 + addendum A1)."),
        f"In-domain models (`study crossfit`, results/crossfit/): {crossfit}.",
        f"Five-article models: {models or 'none found'}; predictions: results/predictions_<task>.parquet.",
        ("Estimates: results/estimates/ (`study estimate` on the cross-fitted predictions, power-tuned, excluded "
         "sentences as their own category; by outlet with --min-labelled 30 --pool-by leaning)."),
        "Rebuild: `make extension` then `make extension-report` from the project root (see this folder's README).",
    ]
