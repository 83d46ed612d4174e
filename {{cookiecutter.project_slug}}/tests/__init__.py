"""The service's tests.

Imported before conftest.py and the libraries it pulls in: the garbage collector would scan
those hundreds of thousands of long-lived objects again and again while they load, so it stays
off until collection is over (see `pytest_collection_finish` in conftest.py).
"""

import gc

gc.disable()
