# Two commands on a fresh machine:  `make study` (install + reproduce results/)  and  `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STUDY := $(VENV)/bin/study
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install study test browser labelstudio benchmark clean-venv

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

# Headless Chromium for the report-rendering test (Debian package); skipped where it exists.
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium; the report rendering test will say it was skipped"; }

test: install browser labelstudio
	$(PY) -m pytest

benchmark: install
	$(PY) benchmarks/run_benchmarks.py

clean-venv:
	rm -rf $(VENV)
