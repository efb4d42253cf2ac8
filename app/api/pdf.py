"""PDF downloads (documents, the 公示 list): one response shape, one ETag and content negotiation for all of them."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

# application/pdf unless the client asks for octet-stream and not for PDF: generic clients (openapi-python-client)
# know octet-stream and hand the body over as bytes instead of skipping the route.
PDF_TYPES = ("application/pdf", "application/octet-stream")


def pdf_ok(description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI 200 and 304 entries of a PDF download."""
    return {
        200: {
            "description": description,
            "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in PDF_TYPES},
            "headers": {
                "ETag": {"description": "SHA-256 of the PDF bytes.", "schema": {"type": "string"}},
                "Content-Disposition": {
                    "description": "attachment, with an RFC 5987 UTF-8 file name.",
                    "schema": {"type": "string"},
                },
            },
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
    }


def pdf_response(
    pdf: bytes, file_name: str, ascii_name: str, if_none_match: str | None, accept: str | None
) -> Response:
    """The PDF with `ETag` = SHA-256 of its bytes (304 when If-None-Match has it) and an RFC 6266/5987
    `Content-Disposition`: the UTF-8 `file_name` with a plain ASCII fallback for old clients."""
    etag = f'"{hashlib.sha256(pdf).hexdigest()}"'
    if if_none_match is not None and etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=304, headers={"ETag": etag})
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"
    wanted = accept or ""
    media = PDF_TYPES[1] if PDF_TYPES[1] in wanted and PDF_TYPES[0] not in wanted else PDF_TYPES[0]
    return Response(pdf, media_type=media, headers={"ETag": etag, "Content-Disposition": disposition})
