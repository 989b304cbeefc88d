"""schemathesis hooks for tests/webapp/test_api_schema.py (loaded through SCHEMATHESIS_HOOKS).

tus PATCH bodies are raw bytes under their own media type, which schemathesis sends like octet-stream.
"""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
