"""Legacy TLS for portals whose servers only speak old protocol versions (portals.md §6).

OpenSSL 3 refuses TLS 1.0/1.1 and weak ciphers at its default security level, and Scrapy's
DOWNLOADER_CLIENT_TLS_CIPHERS cannot lower the level (Twisted drops the `@SECLEVEL` token when
it expands the cipher string). This context factory sets `DEFAULT:@SECLEVEL=0` on the real
OpenSSL context. It is used only by portals declared `tls = "legacy"`, never globally.
"""

from __future__ import annotations

import warnings
from typing import Any

from scrapy.core.downloader.contextfactory import (
    _ScrapyCertificateOptions,
    _ScrapyClientContextFactory,
)
from scrapy.exceptions import ScrapyDeprecationWarning

LEGACY_CIPHERS = b"DEFAULT:@SECLEVEL=0"

# Scrapy deprecates custom context factories without offering another way to set the
# security level; this one is chosen deliberately, per portal.
warnings.filterwarnings("ignore", message="The 'DOWNLOADER_CLIENTCONTEXTFACTORY' setting is "
                        "deprecated", category=ScrapyDeprecationWarning)


class _LegacyCertificateOptions(_ScrapyCertificateOptions):
    def _makeContext(self, *args: Any, **kwargs: Any):
        context = super()._makeContext(*args, **kwargs)
        context.set_cipher_list(LEGACY_CIPHERS)
        return context


class LegacyTLSContextFactory(_ScrapyClientContextFactory):
    def _get_cert_options(self) -> _LegacyCertificateOptions:
        return _LegacyCertificateOptions(**self._get_cert_options_kwargs())
