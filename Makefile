# Two commands on a fresh machine:  `make study` (install + reproduce results/)  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STUDY := $(VENV)/bin/study
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install study test test-fast lint browser labelstudio benchmark clean-venv extension extension-report extension-coverage curve

# Installs only when pyproject.toml or requirements.lock changed: a second install does nothing.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Label Studio (annotation round-trip test) in its own venv: it pins its own numpy and Django.
# Like $(STAMP), a second run does nothing until the lock changes.
LS_VENV := .venv-labelstudio
LS_STAMP := $(LS_VENV)/.installed
$(LS_STAMP): requirements-labelstudio.lock
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-labelstudio.lock
	touch $(LS_STAMP)

labelstudio: $(LS_STAMP)

# The whole study, in data-flow order: corpus -> labels -> runs -> tables -> report.
study: install
	$(STUDY) segment
	$(STUDY) validate
	$(STUDY) agree
	$(STUDY) export --format jsonl
	$(STUDY) export --format csv
	$(STUDY) run --all
	$(STUDY) tables
	$(STUDY) report

# Learning curves (not in `make study`: CPU budget; each results/curves/<task>.md records its time); `study report` shows them
# when results/curves/ holds them. One task per call, so each task's table has all four models.
# One seed by default: the fine-tuned transformer's points cost about 6 minutes per task and seed on 2 cores;
# `make curve CURVE_SEEDS="0 1 2"` runs the runs' three seeds (the "all" point then equals each run's macro-F1).
CURVE_MODELS := tfidf_logreg embed_logreg transformer setfit
CURVE_SEEDS ?= 0
curve: install
	for t in stance frame sentiment; do $(STUDY) curve $(foreach m,$(CURVE_MODELS),configs/$${t}_$(m).yaml) --sizes 20 40 60 80 --seeds $(CURVE_SEEDS) || exit 1; done
	$(STUDY) report

# Headless Chromium for the report-rendering test (Debian package); skipped where it exists.
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium; the report rendering test will say it was skipped"; }

test: install browser labelstudio
	$(PY) -m pytest

# The tests without the `slow` mark (marked by measured duration, see tests/README.md): a quick check while editing.
test-fast: install
	$(PY) -m pytest -m "not slow"

# pyflakes checks and syntax errors (ruff; settings in pyproject.toml); run by CI before the tests.
lint: install
	$(VENV)/bin/ruff check study tests benchmarks extensions

benchmark: install
	$(PY) benchmarks/run_benchmarks.py

# The extension study (extensions/allsides_immigration/README.md), in data-flow order: sentences ->
# per coding round (coding/rounds.yaml; each round is its own project root coding/round<N>/): its sample
# rows as a corpus, keyed passes by sentence id (a round coded from opaque keys), Label Studio round trip
# of its blind passes, agreement -> the rounds' golds merged -> gold check -> in-domain models cross-fitted
# on the coded sample, predicting every sentence (skipped when config, sample, input and code are unchanged)
# -> naive / labelled-only / cross-PPI estimates -> the five-article models' predictions, for comparison
# (skipped when made by the same model folder).
# Its own steps are scripts beside its data ($(EXT)/scripts/, default --root: $(EXT)); the rest is `study`.
EXT := extensions/allsides_immigration
EXT_CODING := $(PY) $(EXT)/scripts/coding.py
EXT_TASKS := stance frame sentiment
extension: install
	test -f $(EXT)/data/sentences.parquet || $(STUDY) sample-sentences --articles $(EXT)/data/articles.jsonl.gz \
	  --sentences $(EXT)/data/sentences.parquet --out $(EXT)/sample/sample_sentences.jsonl --n 1200 --seed 11
	rounds=$$($(EXT_CODING) rounds) || exit 1; for r in $$rounds; do d=$(EXT)/coding/round$$r; \
	  $(EXT_CODING) corpus --round $$r && { test ! -d $$d/blind || $(EXT_CODING) unkey --round $$r; } && \
	  $(STUDY) --root $$d annotate export --sample all --input sample.jsonl --out labels/label_studio/tasks && \
	  passes=$$($(EXT_CODING) passes --round $$r) || exit 1; for p in $$passes; do \
	    $(EXT_CODING) ls-json --round $$r --pass $$p && \
	    $(STUDY) --root $$d annotate import labels/label_studio/$$p.json --annotator $$p --kind model --force || exit 1; done; \
	  $(EXT_CODING) agree --round $$r || exit 1; done
	$(EXT_CODING) merge
	$(EXT_CODING) check
	$(STUDY) crossfit $(foreach t,$(EXT_TASKS),$(EXT)/configs/$(t)_crossfit.yaml) --labelled $(EXT)/labels/gold.jsonl \
	  --input $(EXT)/data/sentences.parquet --out $(EXT)/results/crossfit
	for t in $(EXT_TASKS); do o=$(EXT)/results/crossfit/crossfit_$$t.parquet; \
	  $(STUDY) estimate --predictions $$o --labelled $(EXT)/labels/gold.jsonl --field $$t --by leaning \
	    --meta $(EXT)/data/articles.jsonl.gz --out $(EXT)/results/estimates && \
	  $(STUDY) estimate --predictions $$o --labelled $(EXT)/labels/gold.jsonl --field $$t --by outlet --min-labelled 30 \
	    --pool-by leaning --meta $(EXT)/data/articles.jsonl.gz --out $(EXT)/results/estimates || exit 1; done
	for t in frame sentiment; do \
	  m=$$($(STUDY) train configs/$${t}_embed_logreg.yaml | awk '{print $$NF}') && test -d "$$m" || exit 1; \
	  o=$(EXT)/results/predictions_$$t.parquet; \
	  $(STUDY) predictions-fresh $$o $$m || $(STUDY) predict --model $$m --input $(EXT)/data/sentences.parquet --sentences --output $$o || exit 1; done

extension-report: install
	$(PY) $(EXT)/scripts/report.py
	$(PY) $(EXT)/scripts/power.py
	$(PY) $(EXT)/scripts/five_article_gold.py

# Coverage check against truth (issue 22 item 5): simulated coded samples of the 1,200 coded sentences;
# results/coverage.md, coverage.csv (about 10 minutes on 2 cores)
extension-coverage: install
	$(PY) $(EXT)/scripts/coverage_sim.py

clean-venv:
	rm -rf $(VENV)
