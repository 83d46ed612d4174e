"""Retiring a route: it keeps answering, and each successful answer says since when it is
deprecated and when it goes (`Deprecation`, RFC 9745; `Sunset`, RFC 8594; a `Link` to what
replaces it).

    @router.get("/things", deprecated=True, dependencies=[deprecation(since, sunset, link)])

`deprecated=True` marks it in the OpenAPI document; `docs/architecture.md` says how a new
version is added beside the old one.
"""

from datetime import UTC, datetime
from email.utils import format_datetime

from fastapi import Response, params


def deprecation(since: datetime, sunset: datetime, successor: str | None = None) -> params.Depends:
    """A route dependency that announces the route's deprecation on its successful answers
    (headers set by a dependency do not reach error responses). Both dates must carry a
    time zone: a naive one would be read in the server's."""
    if since.tzinfo is None or sunset.tzinfo is None:
        raise ValueError("give deprecation dates a time zone, e.g. datetime(..., tzinfo=UTC)")
    headers = {
        "Deprecation": f"@{int(since.timestamp())}",
        "Sunset": format_datetime(sunset.astimezone(UTC), usegmt=True),
    }
    if successor is not None:
        headers["Link"] = f'<{successor}>; rel="successor-version"'

    async def announce(response: Response) -> None:
        response.headers.update(headers)

    return params.Depends(announce)
