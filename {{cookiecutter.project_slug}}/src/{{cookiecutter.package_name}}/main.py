"""The ASGI entry point: servers load `app` from here (see `cli.serve`).

Importing this module builds the application from the environment's settings, so only
servers do; the tests and the CLI use `application.create_app`.
"""

from {{ cookiecutter.package_name }}.application import create_app

app = create_app()
