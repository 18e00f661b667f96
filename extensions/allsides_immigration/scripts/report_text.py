"""The words of the extension report: fixed paragraphs, the limits, and the findings written
from the numbers (so every number in the text is the one in the tables)."""

from __future__ import annotations

import pandas as pd

from study.formatting.numbers import fmt_pct, fmt_pct_ci

TITLE = "Immigration coverage across outlets (AllSides corpus): frame shares with prediction-powered inference"

ESTIMATES_INTRO = (
    "Shares of sentences per primary frame, in %, with 95% intervals. naive: share of predicted labels over all "
    "sentences of the group (Wilson; it inherits the classifier's errors, and its interval reflects only sampling "
    "noise, not that bias). labelled only: share of adjudicated gold labels among the group's sentences of the random "
    "sample (Wilson). PPI: prediction-powered inference (Angelopoulos et al. 2023, ppi-python, plain PPI, lambda = 1): "
    "the predicted share on the unlabelled sentences corrected by the gold-minus-predicted difference on the labelled "
    "ones (CLT interval). Only the labelled-only and PPI intervals are valid, because the labelled sentences are a "
    "simple random sample of the same sentences. Sentences the codebook excludes (page boilerplate) are their own "
    "category '(excluded)', so the shares are shares of all sentences; the classifier never predicts it, so its "
    "naive share is 0."
)
CONTRAST_CAPTION = (
    "Coded sentences only (the simple random sample, adjudicated gold). The leaning is a rating of the outlet, so outlets "
    "are the units: the 95% interval is a two-stage cluster bootstrap (outlets within each leaning, then articles within "
    "each outlet), p permutes the leaning across outlets (scipy.stats.permutation_test), Holm corrects across the frames "
    "tested; a frame with fewer than 5 coded sentences in either leaning is not tested. k/n: coded sentences of the "
    "label / all coded sentences of the leaning.")
DAGGER = ("†: no (or only) labelled sentences of this label in the group; the PPI (CLT) interval is unreliable there, "
          "read the labelled-only Wilson interval. A PPI point estimate can fall slightly below 0 (its interval is "
          "clipped to [0, 100], the point is not).")
MORE_FRAMES = ("Frames with a PPI share under 3% over the whole corpus are left out of these tables; every frame and "
               "group is in estimates/shares_frame_by_leaning.md and .csv (and _by_outlet).")
OUTLETS_INTRO = (
    "The outlets with the most sentences in the corpus. Each has only a few labelled sentences in the random sample "
    "(the n below), so the labelled-only and PPI intervals are wide and, under 30 labelled sentences, PPI's CLT "
    "interval is not reliable; the naive share is precise but biased by the classifier. These tables describe the "
    "outlets' immigration coverage in this corpus; they do not support rankings between outlets."
)
ACCURACY_INTRO = (
    "The frame and sentiment classifiers were trained on the five-article study's 116 gold sentences (DOJ request, "
    "July 2025) and applied here unchanged: frozen all-MiniLM-L6-v2 sentence embeddings with logistic regression "
    "(embed_logreg). Scores are against the adjudicated gold of the random sample, excluded sentences left out, "
    "macro-F1 over the classes present in the gold labels; 95% percentile-bootstrap intervals over sentences "
    "(2,000 resamples). Stance is not predicted: the study's stance classifier was trained for the DOJ-request "
    "target, not the addendum's generalised target."
)
AGREEMENT_INTRO = (
    "Two blind passes over the 320 sampled sentences, both by fresh-context instances of one large language model "
    "(kind: model), coded with codebook 1.1 + addendum A1 and brought in through Label Studio's export format. "
    "Their agreement measures the reproducibility of that model's coding, not its validity. Disagreements were "
    "adjudicated sentence by sentence by a third model instance (ext_adjudicator), citing the rule; the gold labels "
    "are labels/gold.jsonl."
)
LIMITS = [
    "Leaning is the AllSides rating of the outlet at crawl time, not a rating of the article or of the sentence.",
    ("Coverage: the articles AllSides collected on its immigration topic, mostly 2012-2020 (2001 to July 2020); "
    "not a sample of all immigration news, and outlets differ in how many articles they contribute."),
    ("Sentences are not independent within articles. The labelled sentences are a simple random sample of the 61,140 "
    "sentences (draws are i.i.d. up to sampling without replacement, 0.5% of the population), so PPI's assumption "
    "holds for the question asked here: the shares of THESE sentences. For a claim about how outlets cover "
    "immigration in general (articles as draws from an outlet's output), sentences of one article are correlated: "
    "an article-clustered analysis (sampling or resampling whole articles, cluster-robust variance) would give "
    "wider intervals, most of all per outlet, where few articles carry many sentences. The naive Wilson intervals "
    "treat all N sentences as independent and are too narrow for that question as well."),
    ("All labels are model-made: two passes by instances of one language model, adjudicated by another instance of "
    "a language model. The agreement is reproducibility, not validity; no person has checked these labels."),
    ("Boilerplate left in the text by the extraction (advertisements, credits, newsletter prompts, captions) is "
    "excluded by the codebook; in the estimates it is the category '(excluded)', which the classifiers cannot "
    "predict, so PPI moves that share from the predicted frames to '(excluded)'."),
    ("The classifiers were trained on 116 sentences about one 2025 event, so their accuracy here is low; PPI keeps "
    "the intervals valid but a weak classifier gains little over the labelled sample alone (the PPI interval is then "
    "about as wide as the labelled-only one)."),
    "Frame is one primary label per sentence; secondary frames are kept in the gold file but not estimated.",
]


def _ci(row: pd.Series, kind: str) -> str:
    return f"{fmt_pct(row[f'{kind}_share'], 1)} {fmt_pct_ci(row[f'{kind}_low'], row[f'{kind}_high'], 1)}"


def _row(df: pd.DataFrame, group: str, label: str) -> pd.Series:
    return df[(df["group"] == group) & (df["label"] == label)].iloc[0]


def contrast_finding(c: pd.DataFrame, a: str, b: str) -> str:
    """The leaning contrast in words, from the outlet-level table (study.estimate.contrasts)."""
    from study.formatting.numbers import fmt_p

    tested = c[c["tested"]]
    untested = len(c) - len(tested)
    head = (f"Between {a}- and {b}-rated outlets (coded sentences only, outlets as the units: {int(c[f'outlets_{a}'].iloc[0])} "
            f"and {int(c[f'outlets_{b}'].iloc[0])} outlets, {int(c[f'n_{a}'].iloc[0])} and {int(c[f'n_{b}'].iloc[0])} sentences; "
            f"Holm over the {len(tested)} categories (frames, excluded text) with at least 5 coded sentences in each leaning, {untested} not tested)")
    if tested.empty:
        return head + ": no frame has enough coded sentences to test."
    survive = tested[tested["p_holm"] < 0.05]
    top = tested.loc[tested["p"].idxmin()]

    def one(r) -> str:
        return (f"{r['label']} {a} {fmt_pct(r[f'share_{a}'], 1)} ({r[f'coded_{a}']}/{r[f'n_{a}']}) vs {b} "
                f"{fmt_pct(r[f'share_{b}'], 1)} ({r[f'coded_{b}']}/{r[f'n_{b}']}), difference "
                f"{fmt_pct(r['difference'], 1, sign=False)} points {fmt_pct_ci(r['low'], r['high'], 1)}, p "
                f"{fmt_p(r['p'], int(r['permutations']))}, Holm p {fmt_p(r['p_holm'], int(r['permutations']))}")
    if survive.empty:
        return head + f": no frame share differs after correction; the smallest p is {one(top)}."
    return head + ": " + "; ".join(one(r) for _, r in survive.iterrows()) + " (surviving Holm)."


def findings(df: pd.DataFrame, groups: list[str], labels: list[str], scores: list[dict], agree: list[dict],
             contrasts: pd.DataFrame | None = None) -> list[str]:
    """The findings, written from the estimate table (frame by leaning), the accuracy and agreement rows."""
    out = []
    whole = df[df["group"] == "(all)"]
    n_lab, big_n = int(whole["labelled_n"].iloc[0]), int(whole["naive_n"].iloc[0])
    frames = [lab for lab in labels if lab != "(excluded)"]
    top = ", ".join(f"{lab} {_ci(_row(df, '(all)', lab), 'ppi')}" for lab in frames[:3])
    out.append(f"Over all {big_n:,} sentences (n = {n_lab} labelled), the most frequent primary frames by PPI are {top}.")
    if "(excluded)" in set(whole["label"]):
        out.append(f"Boilerplate the codebook excludes is {_ci(_row(df, '(all)', '(excluded)'), 'ppi')} of all sentences "
                   "(PPI); the classifiers label it as some frame, so every naive share includes it.")
    gaps = sorted(((abs(r.naive_share - r.ppi_share), r.label) for r in whole.itertuples() if r.label in frames), reverse=True)
    outside = [r.label for r in whole.itertuples() if r.label in frames and not (r.ppi_low <= r.naive_share <= r.ppi_high)]
    if gaps:
        lab = gaps[0][1]
        r = _row(df, "(all)", lab)
        out.append(f"Naive shares from predicted labels are biased: the largest gap is {lab}, naive {_ci(r, 'naive')} vs "
                   f"PPI {_ci(r, 'ppi')}; for {len(outside)} of the {len(frames)} frames shown the naive share lies outside "
                   "the PPI interval.")
    if contrasts is not None and len(groups) >= 2:
        out.append(contrast_finding(contrasts, groups[0], groups[-1]))
    for s in scores:
        out.append(f"The {s['field']} classifier trained on the five articles reaches macro-F1 {s['macro_f1']:.2f} "
                   f"[{s['f1_low']:.2f}, {s['f1_high']:.2f}] and accuracy {s['accuracy']:.2f} [{s['acc_low']:.2f}, "
                   f"{s['acc_high']:.2f}] on this corpus (n = {s['n']}, {s['classes']} classes in gold).")
    if agree:
        alphas = ", ".join(f"{r['field']} {float(r['krippendorff_alpha']):.2f}" for r in agree)
        out.append(f"The two blind passes (both by one language model) agree with Krippendorff's alpha {alphas} "
                   "(reproducibility, not validity).")
    return out


def provenance(scores: list[dict]) -> list[str]:
    models = "; ".join(f"{s['field']}: models/{s['model']} (`study train configs/{s['field']}_embed_logreg.yaml`)" for s in scores)
    return [
        ("Data: AllSides corpus of Baly et al. (EMNLP 2020), ramybaly/Article-Bias-Prediction, Apache-2.0; topic "
        "immigration, 1,547 articles (data/articles.jsonl.gz; see NOTICE and data/ATTRIBUTION.md)."),
        ("Sample: sample/sample_sentences.jsonl, a simple random sample of 320 of the 61,140 sentences (seed 11; "
        "sample/sample_sentences_record.json)."),
        ("Labels: labels/raw/ext_a.jsonl and ext_b.jsonl -> Label Studio JSON exports (labels/label_studio/) -> "
        "`study annotate import` -> labels/annotations/; gold: labels/gold.jsonl (codebook 1.1 + addendum A1, "
        "labels/CODEBOOK_ADDENDUM.md)."),
        f"Models: {models or 'none found'}; predictions: results/predictions_<task>.parquet (`study predict --sentences`).",
        "Estimates: results/estimates/ (`study estimate`, plain PPI, excluded sentences as their own category).",
        "Rebuild: `make extension` then `make extension-report` from the project root (see this folder's README).",
    ]
