import gc

from agency import create_app

app = create_app()
# What start-up built lives as long as the process: full garbage collections skip it from here on
# (a request's own objects are still collected).  About 250,000 objects: each full collection
# walked them all, a sixth of a workflow request's time in bench_workflow (bench/README.md).
gc.freeze()
