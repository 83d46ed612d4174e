"""Which failures mean the database cannot serve now (a 503) rather than a bug (a 500).

- The pool's `TimeoutError`: every connection stayed busy for `DATABASE_POOL_TIMEOUT`.
- Any DBAPI error after which SQLAlchemy invalidated the connection: the connection died,
  or could not be opened at all (`core.db` marks every failure to connect so).
- An `OperationalError`, which PEP 249 reserves for the database's operation rather than the
  program's: unreachable, refusing connections, locked past `DATABASE_BUSY_TIMEOUT`, a file
  that cannot be opened or has lost its tables.
- An error whose SQLSTATE says so, since PostgreSQL's drivers report most failures as a plain
  `DBAPIError`: classes 08 (connection exception), 53 (insufficient resources: too many
  connections, out of memory or disk), 57 (operator intervention: shutting down, a cancelled
  statement, including one cancelled at `DATABASE_STATEMENT_TIMEOUT_MS`, since that says the
  database is too slow now) and 58 (system error), and 3D000 (the database does not exist,
  as a missing SQLite file does not).
- An `OSError`: the operating system refused (connection refused or reset, timed out, no
  such file), which drivers raise on connect without wrapping it.

Everything else is a bug and stays a 500: `ProgrammingError`, `DataError`, an
`InterfaceError` on a live connection, a plain exception.
"""

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# What may mean the database is unavailable; `core.problems` maps each to a 503 or a 500.
POSSIBLY_UNAVAILABLE = (DBAPIError, PoolTimeoutError, OSError)
UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
UNAVAILABLE_SQLSTATES = frozenset({"3D000"})


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot serve now, rather than that the code is wrong."""
    if isinstance(error, DBAPIError):
        operational = isinstance(error, OperationalError) and not _is_statement_error(error.orig)
        return error.connection_invalidated or operational or _is_unavailable_state(error.orig)
    return isinstance(error, PoolTimeoutError | OSError)


def _is_unavailable_state(orig: BaseException | None) -> bool:
    """Whether the driver's SQLSTATE (PostgreSQL's error code) says the server cannot serve."""
    state = getattr(orig, "sqlstate", None)
    if not isinstance(state, str):
        return False
    return state in UNAVAILABLE_SQLSTATES or state[:2] in UNAVAILABLE_SQLSTATE_CLASSES


def _is_statement_error(orig: BaseException | None) -> bool:
    """A mistake in the SQL itself, which SQLite reports as an `OperationalError` too.

    SQLite gives its generic code, SQLITE_ERROR, to a syntax error or an unknown column or
    function; of those only a missing table says the database is unusable (an empty or
    replaced file, a migration half-way), so only that one counts as unavailable.
    """
    generic = getattr(orig, "sqlite_errorname", None) == "SQLITE_ERROR"
    return generic and not str(orig).startswith("no such table")
