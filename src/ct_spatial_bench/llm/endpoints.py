"""Where a provider's SDK really sends its requests, and URLs fit to be stored.

The SDKs take their base URL from the caller, else from their own environment variables (names
read in the installed SDKs: openai ``OPENAI_BASE_URL`` in ``openai/lib/_client_auth.py``,
google-genai ``GOOGLE_GEMINI_BASE_URL`` in ``google/genai/_base_url.py``, dashscope
``DASHSCOPE_HTTP_BASE_URL`` (and ``DASHSCOPE_API_REGION``) read into
``dashscope.base_http_api_url`` at import), else from a built-in default. ``effective_base_url``
resolves the same order, and every client passes the result to its SDK explicitly, so the URL the
key rule checks (``secrets.key_may_go_to``) is the URL that is called, whatever set it.

``without_credentials`` removes ``user:password@`` from a URL before it is stored anywhere
(model revisions, checkpoints, manifests, cache keys); ``normalised_url`` is the form a judge's
identity uses (two spellings of one server are one judge).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

# The SDK's own base-URL variable per provider (None: the provider has no SDK default).
SDK_BASE_URL_ENV = {
    "openai": "OPENAI_BASE_URL",
    "gemini": "GOOGLE_GEMINI_BASE_URL",
    "qwen": "DASHSCOPE_HTTP_BASE_URL",
}
_DEFAULTS = {
    "openai": "https://api.openai.com/v1",
    "gemini": "https://generativelanguage.googleapis.com/",
}


def effective_base_url(provider: str, configured: str | None) -> str | None:
    """The base URL ``provider``'s SDK will call: the configured one, else the SDK's
    environment variable, else its default (None for a provider without one)."""
    if configured:
        return configured
    variable = SDK_BASE_URL_ENV.get(provider)
    if variable and os.environ.get(variable):
        return os.environ[variable]
    if provider == "qwen":
        import dashscope  # its region and URL variables are resolved when it is imported

        return dashscope.base_http_api_url
    return _DEFAULTS.get(provider)


def without_credentials(url: str | None) -> str | None:
    """``url`` with any ``user:password@`` removed (a URL that is not one is returned as is)."""
    if not url or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.netloc or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def url_credentials(url: str | None) -> list[str]:
    """The password a URL carries (to be registered as a secret; the user name is not one)."""
    if not url or "@" not in url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    return [parts.password] if parts.password else []


def normalised_url(url: str | None) -> str:
    """A URL in one spelling: no credentials, scheme and host lower-case, the default port and a
    trailing slash dropped (``HTTPS://Api.OpenAI.com:443/v1/`` is ``https://api.openai.com/v1``)."""
    url = without_credentials(url) or ""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and (parts.scheme.lower(), port) not in (("https", 443), ("http", 80)):
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), parts.query, ""))
