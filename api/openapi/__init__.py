"""The OpenAPI 3.1 document, generated from the routes and their ``@endpoint`` declarations.

Paths, methods, parameters (types, bounds, enums, defaults), request bodies, security and
status codes come from the same :class:`api.schemas.EndpointSpec` objects that validate
requests, so the document describes what the code does; response bodies are the schemas
of :mod:`.schemas`, checked against real answers by the property-based test
(schemathesis) in ``tests/api/test_openapi.py``.

Split by job: :mod:`.types` (schema building blocks), :mod:`.stats_schemas` and
:mod:`.schemas` (response bodies, declarative), :mod:`.document` (operations and paths).
"""

from api.openapi.document import build_document, operation
from api.openapi.schemas import SCHEMAS

__all__ = ["SCHEMAS", "build_document", "operation"]
