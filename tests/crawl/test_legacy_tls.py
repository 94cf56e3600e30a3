"""A portal whose server only speaks old TLS is crawled when declared `tls = "legacy"`.

Several 政法 servers (spp, chinacourt, hnzf, gdzf) need legacy TLS (portals.md §6). The server
here speaks TLS 1.0 only, which OpenSSL 3 clients refuse at their default security level.
"""

from __future__ import annotations

import datetime
import ssl
import subprocess
import sys
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.crawl.conftest import FAST

pytestmark = pytest.mark.slow

LIST = ("<html><body><div class='commonList_con'><ul class='li_line'>"
        "<li><a href='/old/202401/t20240105_1.shtml'>旧服务器上的文章</a><span>2024-01-05</span>"
        "</li></ul></div><script>createPageHTML(1, 0, 'index', 'shtml');</script></body></html>")
ARTICLE = ("<html><head><meta charset='utf-8'><title>旧服务器上的文章_检察院</title></head><body>"
           "<div class='detail_tit'>旧服务器上的文章</div>"
           "<div class='detail_extend'>时间:2024-01-05  作者:王明  来源:高检网</div>"
           "<div id='fontzoom'><p>检察机关依法办理案件，切实维护群众合法权益。" * 3 +
           "</p></div></body></html>")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        pages = {"/old/index.shtml": LIST, "/old/202401/t20240105_1.shtml": ARTICLE,
                 "/robots.txt": "User-agent: *\nAllow: /\n"}
        body = pages.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        data = (body or "").encode("utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def legacy_server(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLS 1.0 is the point of this server
        warnings.filterwarnings("ignore", "ssl.TLSVersion.TLSv1 is deprecated",
                                DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def crawl(tmp_path, base: str, tls: str | None, name: str) -> tuple[int, str]:
    settings = f"[portal.settings]\ntls = '{tls}'\n" if tls else ""
    declaration = tmp_path / f"{name}.toml"
    declaration.write_text(
        f"[[portal]]\nid = '{name}'\nname = '旧站'\ndialect = 'trs'\n"
        f"start_urls = ['{base}/old/index.shtml']\n{settings}", "utf-8")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "GOVCRAWL_PORTALS": str(declaration),
           "GOVCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / (name + '.db')}",
           "GOVCRAWL_LOG_DIR": str(tmp_path / "logs")}
    result = subprocess.run([sys.executable, "-m", "govcrawl", "crawl", name, *FAST],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout + result.stderr


def test_legacy_tls_declaration_reaches_an_old_server(legacy_server, tmp_path):
    status, output = crawl(tmp_path, legacy_server, None, "modern")
    assert status == 1, output  # the default client refuses TLS 1.0: the portal fails
    assert "failed entirely" in output
    status, output = crawl(tmp_path, legacy_server, "legacy", "legacy")
    assert status == 0, output
    assert "articles new 1" in output
