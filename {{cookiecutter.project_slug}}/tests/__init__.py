"""The service's tests.

Imported before conftest.py and the libraries it pulls in: the garbage collector would scan
those hundreds of thousands of long-lived objects again and again while they load, so it stays
off until conftest.py has loaded (see `pytest_configure` there).
"""

import gc

gc.disable()
