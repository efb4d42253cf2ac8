"""Version 1 of the API: every resource router, mounted under /api/v1."""

from fastapi import APIRouter, Depends

from app.api.dates import bind_request_day
from app.api.v1.annual_reports.routes import router as annual_reports_router
from app.api.v1.applications.routes import router as applications_router
from app.api.v1.assessments.routes import funding_router
from app.api.v1.assessments.routes import router as assessments_router
from app.api.v1.attachments.routes import router as attachments_router
from app.api.v1.calls.routes import router as calls_router
from app.api.v1.centers.routes import router as centers_router
from app.api.v1.change_requests.routes import router as change_requests_router
from app.api.v1.documents.routes import router as documents_router
from app.api.v1.events.routes import router as events_router
from app.api.v1.experts.routes import router as experts_router
from app.api.v1.inbox.routes import router as inbox_router
from app.api.v1.log.routes import router as log_router
from app.api.v1.obligations.routes import router as obligations_router
from app.api.v1.organizations.routes import router as organizations_router
from app.api.v1.publicity.routes import public_router as public_publicity_router
from app.api.v1.publicity.routes import router as publicity_router
from app.api.v1.reference.routes import router as reference_router
from app.api.v1.reports.routes import router as reports_router
from app.api.v1.reviews.routes import router as reviews_router
from app.api.v1.webhooks.routes import router as webhooks_router

# Every date a v1 request carries is judged on the request's day (app/api/dates.py), bound before validation: app.main
# mounts every route below with these dependencies in front (app/api/routing.py says why the routes are mounted flat).
DEPENDENCIES = [Depends(bind_request_day)]

# Each resource router's routes, in matching order, carrying their prefix, tags and dependencies.
router = APIRouter()
for sub in (
    reference_router,
    organizations_router,
    experts_router,
    calls_router,
    applications_router,
    reviews_router,
    attachments_router,
    centers_router,
    annual_reports_router,
    change_requests_router,
    obligations_router,
    inbox_router,
    assessments_router,
    funding_router,
    events_router,
    log_router,
    publicity_router,
    public_publicity_router,
    reports_router,
    documents_router,
    webhooks_router,
):
    router.routes.extend(sub.routes)
