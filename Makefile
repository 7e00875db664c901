# Developer shortcuts; the README's two set-up commands are `make install` and `make test`.
PYTHON ?= python

.PHONY: install test train lint clean

install:  ## install bibench with test tools and the deployment extra (torch pinned via constraints.txt)
	$(PYTHON) -m pip install -c constraints.txt -e ".[dev,deploy]"

test:  ## run the test suite
	$(PYTHON) -m pytest -q

train:  ## the main job: a binarized ResNet-20 on the embedded digits task
	bibench train

lint:  ## static checks
	$(PYTHON) -m ruff check bibench_cli tests benchmarks

clean:  ## remove build artefacts and run outputs
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache outputs multirun
