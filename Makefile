# The two commands of the README.
.PHONY: run test bench

PORT ?= 5000

run:            ## set up and run everything (web, worker, scheduler) on embedded defaults; make run PORT=5001
	@scripts/bootstrap run
	.venv/bin/flask --app wsgi agency serve --port $(PORT)

test:           ## set up and run the whole test suite
	@scripts/bootstrap test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

bench:          ## benchmarks (needs PostgreSQL; see bench/README.md)
	@scripts/bootstrap test
	.venv/bin/python -m bench
