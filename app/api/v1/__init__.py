"""Version 1 of the API: every resource router, mounted under /api/v1."""

from fastapi import APIRouter

from app.api.v1.experts.routes import router as experts_router
from app.api.v1.organizations.routes import router as organizations_router
from app.api.v1.reference.routes import router as reference_router

router = APIRouter()
for sub in (reference_router, organizations_router, experts_router):
    router.include_router(sub)
