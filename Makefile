# The Lambda package, built by `sam build` (template.yaml: BuildMethod makefile; samconfig.toml
# builds in source, so the repository is never copied). It holds lambda/ and shared/ and the
# libraries of lambda/requirements.txt for the functions' runtime and architecture, installed from
# wheels for that platform (no Docker). Bytecode is compiled here because the Lambda file system is
# read-only: Python could not cache it, and every cold start would compile the sources again.
# PYTHON must be the runtime's version (python3.13 on PATH, with pip): it compiles that bytecode.
# Another interpreter of that version: `PYTHON=/path/to/python3.13 sam build`.
PYTHON ?= python3.13
PYTHON_VERSION := 3.13
PLATFORM := manylinux2014_aarch64

build-ApiFunction build-SweepFunction:
	test -n "$(ARTIFACTS_DIR)"
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile --target "$(ARTIFACTS_DIR)" \
		--platform $(PLATFORM) --implementation cp --python-version $(PYTHON_VERSION) --only-binary=:all: \
		-r lambda/requirements.txt
	cp -R lambda shared "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)/lambda" "$(ARTIFACTS_DIR)/shared" -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f "$(ARTIFACTS_DIR)/lambda/requirements.txt"
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)"

.PHONY: build-ApiFunction build-SweepFunction
