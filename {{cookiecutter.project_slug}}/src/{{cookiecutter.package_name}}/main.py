"""The ASGI entry point: servers load `app` from here (see `cli.serve`).

Importing this module builds the application from the environment's settings, so only
servers do; the tests and the CLI use `application.create_app`.
"""

import gc

from {{ cookiecutter.package_name }}.application import create_app

app = create_app()

# What is built by now (modules, routes, schemas, the application) lives as long as the
# process. Frozen, it is left out of the collector's passes: a full pass walked all of it,
# some 130,000 objects, every thousand requests or so, and with the young generations the
# collector took a tenth of a loaded server's CPU time. Garbage is collected first, so that
# none is kept for good.
gc.collect()
gc.freeze()
