"""Probes for orchestrators: is the process up, and can it reach its database?"""

from typing import Literal

import structlog
from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from {{ cookiecutter.package_name }}.core.db import DatabaseDep
from {{ cookiecutter.package_name }}.core.errors import ServiceUnavailable
from {{ cookiecutter.package_name }}.core.openapi import problem_responses

router = APIRouter(prefix="/health", tags=["health"])
logger = structlog.get_logger(__name__)


class HealthStatus(BaseModel):
    """The probe's verdict."""

    status: Literal["ok"] = "ok"


# Orchestrators ask every few seconds, and the answer never changes: it is serialized once.
_ALIVE = HealthStatus().model_dump_json().encode()


@router.get("/live", summary="Liveness probe", response_model=HealthStatus)
async def live() -> Response:
    """Answers while the process is running; checks nothing else."""
    return Response(_ALIVE, media_type="application/json")


@router.get("/ready", summary="Readiness probe", responses=problem_responses(503))
async def ready(database: DatabaseDep) -> HealthStatus:
    """Answers 200 while the database serves its migrated schema; 503 while it is
    unreachable, its pool is exhausted, or its file or tables are missing."""
    try:
        await database.ping()
    except (SQLAlchemyError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        logger.warning("readiness_failed", error=type(error).__name__, reason=str(reason))
        raise ServiceUnavailable(
            "The database is unreachable, or lacks its migrated schema.",
            code="database_unavailable",
        ) from error
    return HealthStatus()
