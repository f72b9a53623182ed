# `make demo` and `make test` set up what they need in .venv and run. Each installs only
# what it needs: the demo the tool alone, `make test` and `make bench` their extras too.
PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
TEST_STAMP  := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test lint bench clean kerberos

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# The Kerberos extra builds against MIT Kerberos' headers: installed with the test extras where
# krb5-config exists (`make kerberos` brings it), else the Kerberos tests skip.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@if command -v krb5-config >/dev/null 2>&1; then \
	  $(BIN)/python -m pip install --quiet -e '.[test,kerberos]'; \
	else \
	  echo "note: no krb5-config here: the Kerberos tests will skip (make kerberos installs it)"; \
	fi
	touch $(TEST_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

# `remediate demo` ends by naming the reports to open and the commands to try next.
demo: $(STAMP)
	$(BIN)/remediate demo

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run_all.py

# Local set-up for the Kerberos tests, as .ci/run does it: Debian's MIT Kerberos (KDC, kinit,
# headers; run as root), libfaketime (a KDC with a skewed clock) and the `kerberos` extra
# built against it. The tests start their own
# realm (LAB.LOCAL) on loopback; nothing here configures the machine's Kerberos.
kerberos: $(STAMP)
	command -v krb5kdc >/dev/null 2>&1 && command -v krb5-config >/dev/null 2>&1 && \
	  command -v faketime >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    krb5-kdc krb5-admin-server krb5-user libkrb5-dev faketime; }
	$(BIN)/python -m pip install --quiet -e '.[kerberos]'

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# ansible-core's answers for the differential inventory test (tests/inventory/ansible/, issue 14):
# every corpus inventory read with its Python API, a few checked with the real CLIs.
.PHONY: ansible-answers
ansible-answers: $(STAMP)
	$(BIN)/python -c 'import ansible' 2>/dev/null || $(BIN)/python -m pip install --quiet 'ansible-core>=2.19,<2.20'
	$(BIN)/python tests/inventory/ansible/record.py

# Exchange build table (remediate/catalog/exchange_builds.csv, issue 16): add the builds a
# CSS-Exchange checkout lists and the table lacks, dated from Microsoft's ExchangeBuildNumbers.csv
# (github.com/microsoft/Get-ExchangeBuildNumber) when EXCHANGE_BUILD_DATES names a copy; rows
# without a published date are reported, not added. Review the diff and the CSV's header after.
CSS_EXCHANGE ?= ../CSS-Exchange
EXCHANGE_BUILD_DATES ?=
.PHONY: exchange-builds
exchange-builds: $(STAMP)
	$(BIN)/python tools/refresh_exchange_builds.py $(CSS_EXCHANGE)/Shared/Get-ExchangeBuildVersionInformation.ps1 $(if $(EXCHANGE_BUILD_DATES),--dates $(EXCHANGE_BUILD_DATES))
