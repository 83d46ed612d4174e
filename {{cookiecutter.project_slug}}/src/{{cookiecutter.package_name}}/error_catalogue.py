"""`GET /errors`: the error catalogue as a page; every problem's `type` points into it."""

import html
import re

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from {{ cookiecutter.package_name }}.auth.limits import DEFAULT_LIMIT
from {{ cookiecutter.package_name }}.core.errors import CATALOGUE

_CODE_SPAN = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    """`text` as HTML, with its backquoted words as code."""
    return _CODE_SPAN.sub(r"<code>\1</code>", html.escape(text))


def catalogue_page() -> str:
    """One section per code, its id the code, so that `/errors#<code>` lands on it."""
    sections = "".join(
        f'<section id="{code}"><h2><code>{code}</code></h2>'
        f"<p>{entry.status}. {_inline(entry.meaning)}</p>"
        f"<p>What to do: {_inline(entry.action)}</p></section>"
        for code, entry in sorted(CATALOGUE.items(), key=lambda item: (item[1].status, item[0]))
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Errors</title></head><body><h1>Errors</h1>" + sections + "</body></html>"
    )


# Not part of the API document: it documents the API's errors, and never changes with a
# version. Rate limited like the API.
router = APIRouter(include_in_schema=False, dependencies=[Depends(DEFAULT_LIMIT)])
_PAGE = catalogue_page()


@router.get("/errors", response_class=HTMLResponse)
async def error_catalogue() -> str:
    """The error catalogue (returned as text, so that the rate limit's headers are kept)."""
    return _PAGE
