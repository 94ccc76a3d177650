"""Resumable upload of rendered chapters to Supabase Storage (the TUS protocol).

A chapter's audio goes up in 6 MB chunks; the upload's address is kept in a small file beside the
audio, so an upload cut off (network gone, app closed) continues from the server's offset.
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

CHUNK = 6 * 1024 * 1024


def _meta(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def upload_resumable(
    base_url: str,
    token: str,
    anon_key: str,
    bucket: str,
    name: str,
    path: Path,
    content_type: str = "audio/wav",
    chunk: int = CHUNK,
) -> None:
    size = path.stat().st_size
    headers = {"Authorization": f"Bearer {token}", "apikey": anon_key, "Tus-Resumable": "1.0.0"}
    marker = path.with_name(path.name + ".upload")
    with httpx.Client(timeout=60.0, headers=headers) as http:
        location = marker.read_text().strip() if marker.is_file() else ""
        offset = 0
        if location:
            head = http.head(location)
            if head.status_code == 200:
                offset = int(head.headers["Upload-Offset"])
            else:
                location = ""
        if not location:
            created = http.post(
                f"{base_url}/storage/v1/upload/resumable",
                headers={
                    "Upload-Length": str(size),
                    "Upload-Metadata": _meta(
                        bucketName=bucket, objectName=name, contentType=content_type
                    ),
                    "x-upsert": "true",
                },
            )
            created.raise_for_status()
            location = created.headers["Location"]
            marker.write_text(location)
        with path.open("rb") as fh:
            while offset < size:
                fh.seek(offset)
                part = fh.read(chunk)
                res = http.patch(
                    location,
                    content=part,
                    headers={
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                    },
                )
                res.raise_for_status()
                offset = int(res.headers["Upload-Offset"])
    marker.unlink(missing_ok=True)
