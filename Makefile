# Two commands for users: `make demo` and `make test`. Both set themselves up on a fresh machine (Python 3.10+).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# CPU torch: on the project's machines this is the local CPU wheel; never a bare `pip install torch` (CUDA, GBs).
TORCH_SPEC ?= torch==2.13.0
DEMO_GIF ?= data/water.gif
DEMO_OUT ?= outputs/demo
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: venv demo test export readme clean-nbs lib-in-sync readme-in-sync nbtest unit papermill wheel-check docs docs-check assignments assignments-check bench bench-mocogan bench-cinn help

help:
	@echo "make demo   # set up, train SinGAN-GIF (demo preset) on $(DEMO_GIF), write random samples to $(DEMO_OUT), judge them"
	@echo "make test   # set up, then everything CI checks (see .ci/run)"

venv: $(VENV)/.installed

$(VENV)/.installed: settings.ini setup.py
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q $(TORCH_SPEC)
	@$(PY) -m pip install -q -e ".[dev]"
	@$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

demo: venv
	@$(BIN)/singan-gif info $(DEMO_GIF)
	@$(BIN)/singan-gif train $(DEMO_GIF) --out $(DEMO_OUT) --preset demo
	@$(BIN)/singan-gif sample $(DEMO_OUT) --out $(DEMO_OUT)/samples --n 4
	@echo "demo outputs: $(DEMO_OUT)/ (checkpoint, reconstruction.gif, real.gif) and $(DEMO_OUT)/samples/ (random samples)"
	@$(BIN)/singan-gif check $(DEMO_OUT) --n 4

export: venv
	@$(BIN)/nbdev_export

readme: venv
	@$(PY) scripts/make_readme.py

clean-nbs: venv
	@$(BIN)/nbdev_clean

# nbdev_export must change nothing: the library is generated from the notebooks.
lib-in-sync: venv
	@before=$$(find singan_gif_lib -name '*.py' -print0 | sort -z | xargs -0 md5sum | md5sum); \
	$(BIN)/nbdev_export; \
	after=$$(find singan_gif_lib -name '*.py' -print0 | sort -z | xargs -0 md5sum | md5sum); \
	if [ "$$before" != "$$after" ]; then echo "FAIL: nbdev_export changed singan_gif_lib/ (edit the notebooks, export, commit both)"; git status --short -- singan_gif_lib; exit 1; fi; \
	echo "ok: library in sync with the notebooks"

readme-in-sync: venv
	@$(PY) scripts/make_readme.py --check

nbtest: venv
	@OMP_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 --timing

unit: venv
	@$(BIN)/pytest tests -q -p no:cacheprovider

papermill: venv
	@$(PY) scripts/run_notebooks.py --preset ci --out executed

# The package as users get it: wheel installed (not editable) in a fresh venv, used from outside the repository,
# every training notebook run under papermill at ci with that venv's kernel (what Colab's install cell gives).
wheel-check: venv
	@$(PY) scripts/check_wheel.py --preset ci

# The docs site offline: nbdev's processing of every notebook (what nbdev_docs runs before quarto), then HTML in _docs/.
# Needs Debian's libjs-mathjax + fonts-mathjax (MathJax 2, local); docs-check needs chromium (apt-get install chromium).
docs: venv
	@$(PY) scripts/docs.py proc && $(PY) scripts/docs.py build

docs-check: venv
	@$(PY) scripts/docs.py check

# Course assignments (Otter-Grader) from the notebooks that carry exercises: assignments/student/ (hand out),
# assignments/solution/, assignments/autograder/<name>.zip (used by `singan-gif grade NOTEBOOK.ipynb`).
assignments: venv
	@$(PY) scripts/assignments.py build --out assignments

# Solutions score full marks, student versions run and score 0, one exercise filled in scores exactly it, nothing leaks.
assignments-check: venv
	@OMP_NUM_THREADS=1 $(PY) scripts/assignments.py check

bench: venv
	@$(PY) scripts/bench_singan_gif.py

bench-mocogan: venv
	@OMP_NUM_THREADS=1 $(PY) scripts/bench_mocogan_hd.py --preset small

bench-cinn: venv
	@$(PY) scripts/bench_cinn.py --preset small --threads 1

test: venv
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lib-in-sync readme-in-sync && \
	$(MAKE) --no-print-directory nbtest && \
	$(MAKE) --no-print-directory unit && \
	$(MAKE) --no-print-directory docs docs-check && \
	$(MAKE) --no-print-directory assignments-check && \
	$(MAKE) --no-print-directory wheel-check; rc=$$?; \
	echo "make test: $$(( $$(date +%s) - start )) s in all, exit $$rc"; exit $$rc
