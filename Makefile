# The two commands of the README.
.PHONY: run test bench

run:            ## set up and run everything (web, worker, scheduler) on embedded defaults
	@scripts/bootstrap run
	.venv/bin/flask --app wsgi agency serve

test:           ## set up and run the whole test suite
	@scripts/bootstrap test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

bench:          ## benchmarks (needs PostgreSQL; see bench/README.md)
	@scripts/bootstrap test
	.venv/bin/python -m bench
