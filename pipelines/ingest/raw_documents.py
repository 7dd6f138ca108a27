"""Raw documents: content-addressed ids and a binary COPY of the bytes as received."""

from __future__ import annotations

import struct

import psycopg

from pipelines.ingest.prepare import (
    PreparedFile,
)
from pipelines.ingest.state import IngestState, reserve_ids


def assign_document_ids(
    conn: psycopg.Connection, state: IngestState, batch: list[PreparedFile]
) -> list[tuple[int, PreparedFile]]:
    """Reserve ids for the batch's documents not stored yet (content-addressed: one row per
    distinct content) and record them in ``state``; returns what to store."""
    fresh: dict[bytes, PreparedFile] = {}
    for item in batch:
        if item.document is not None and item.sha256 not in state.documents:
            fresh.setdefault(item.sha256, item)
    ids = reserve_ids(conn, "raw_documents", len(fresh))
    state.documents.update(zip(fresh, ids, strict=True))
    return list(zip(ids, fresh.values(), strict=True))


def store_raw_documents(
    conn: psycopg.Connection, documents: list[tuple[int, PreparedFile]]
) -> None:
    """Store documents with their reserved ids, in one transaction of their own."""
    if not documents:
        return
    # Binary COPY: the bytes go out as received, no escaping of 50 MB of text.
    chunks = [_BINARY_HEADER]
    for doc_id, item in documents:
        chunks.append(_RAW_TUPLE.pack(4, 8, doc_id, 32, item.sha256, 4, item.size))
        chunks.append(struct.pack("!i", len(item.raw)))  # json: the text itself
        chunks.append(item.raw)
    chunks.append(b"\xff\xff")
    with (
        conn.transaction(),
        conn.cursor().copy(
            "COPY raw_documents (id, sha256, size_bytes, body) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.write(b"".join(chunks))


_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
# field count, then (length, value) for id bigint, sha256 bytea(32), size integer
_RAW_TUPLE = struct.Struct("!hiqi32sii")
