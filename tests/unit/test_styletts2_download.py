"""Model downloads against a local HTTP server: progress, resume by Range, checksums, cancel."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines import downloads
from pipelines.core.errors import StudioError
from pipelines.engines.base import Cancelled, CancelToken

PAYLOAD = os.urandom(3 * (1 << 20) + 12345)  # a few chunks of random bytes
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ranges: list[str]
    ignore_range = False
    drop_after: int | None = None  # close the first full response after this many bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path != "/model.bin":
            self.send_error(404)
            return
        header = self.headers.get("Range")
        start = 0
        if header and not self.server.ignore_range:
            self.server.ranges.append(header)
            start = int(header.removeprefix("bytes=").split("-")[0])
            if start >= len(PAYLOAD):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        drop = self.server.drop_after
        if drop is not None:
            self.server.drop_after = None
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.ranges = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _url(srv: _Server) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/model.bin"


def _set(srv: _Server, sha: str | None = SHA) -> downloads.ModelSet:
    return downloads.ModelSet(
        "testmodel", "test", (downloads.ModelFile("weights/model.bin", _url(srv), sha),)
    )


def test_download_reports_progress_and_verifies(server: _Server) -> None:
    seen: list[tuple[int, int | None]] = []
    root = downloads.download_model(_set(server), progress=lambda n, d, t: seen.append((d, t)))
    assert (root / "weights/model.bin").read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not list(root.rglob("*.part"))


def test_a_partial_file_is_resumed_with_a_range_request(server: _Server, tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    half = len(PAYLOAD) // 2
    target.with_name("model.bin.part").write_bytes(PAYLOAD[:half])
    digest = downloads.download_file(_url(server), target, SHA)
    assert server.ranges == [f"bytes={half}-"]
    assert digest == SHA
    assert target.read_bytes() == PAYLOAD


def test_a_server_that_ignores_ranges_restarts_cleanly(server: _Server, tmp_path: Path) -> None:
    server.ignore_range = True
    target = tmp_path / "model.bin"
    target.with_name("model.bin.part").write_bytes(b"stale bytes from another file")
    downloads.download_file(_url(server), target, SHA)
    assert target.read_bytes() == PAYLOAD


def test_a_dropped_connection_resumes_where_it_stopped(server: _Server, tmp_path: Path) -> None:
    server.drop_after = 1 << 20
    target = tmp_path / "model.bin"
    downloads.download_file(_url(server), target, SHA)
    assert target.read_bytes() == PAYLOAD
    assert len(server.ranges) == 1
    resumed_at = int(server.ranges[0].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= 1 << 20


def test_a_wrong_checksum_fails_and_leaves_nothing(server: _Server, tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    with pytest.raises(StudioError, match="damaged"):
        downloads.download_file(_url(server), target, "0" * 64)
    assert not target.exists()
    assert not target.with_name("model.bin.part").exists()


def test_cancel_keeps_the_part_file_for_a_later_resume(server: _Server, tmp_path: Path) -> None:
    token = CancelToken()
    target = tmp_path / "model.bin"

    def progress(name: str, done: int, total: int | None) -> None:
        if done >= 1 << 20:
            token.cancel()

    with pytest.raises(Cancelled):
        downloads.download_file(_url(server), target, SHA, progress, token)
    part = target.with_name("model.bin.part")
    assert part.stat().st_size >= 1 << 20
    downloads.download_file(_url(server), target, SHA)
    assert target.read_bytes() == PAYLOAD
    assert server.ranges  # the second run resumed


def test_without_a_published_checksum_the_first_digest_is_recorded(server: _Server) -> None:
    mset = _set(server, sha=None)
    root = downloads.download_model(mset)
    assert (root / downloads.SUMS_FILE).read_text().split() == [SHA, "weights/model.bin"]
    # A file damaged later no longer matches the recorded digest and is fetched again.
    (root / "weights/model.bin").write_bytes(b"corrupted")
    downloads.download_model(mset)
    assert (root / "weights/model.bin").read_bytes() == PAYLOAD


def test_a_verified_file_is_not_downloaded_again(server: _Server) -> None:
    mset = _set(server)
    downloads.download_model(mset)
    server.server_close()  # any further request would fail
    assert downloads.download_model(mset) == mset.root()


def test_http_errors_name_the_file_and_the_fix(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(StudioError, match="HTTP 404") as err:
        downloads.download_file(_url(server).replace("model.bin", "nope"), tmp_path / "x.bin")
    assert "download again" in err.value.fix


def test_install_from_a_folder_the_author_has(tmp_path: Path, server: _Server) -> None:
    source = tmp_path / "mine" / "deep"
    source.mkdir(parents=True)
    (source / "model.bin").write_bytes(PAYLOAD)
    root = downloads.install_from(_set(server), tmp_path / "mine")
    assert (root / "weights/model.bin").read_bytes() == PAYLOAD
    (source / "model.bin").write_bytes(b"not the model")
    with pytest.raises(StudioError, match="does not match"):
        downloads.install_from(_set(server), tmp_path / "mine")


def test_the_styletts2_manifest_covers_checkpoint_and_auxiliary_models() -> None:
    mset = downloads.model_set("styletts2")
    paths = {f.path for f in mset.files}
    assert {"LibriTTS/config.yml", "LibriTTS/epochs_2nd_00020.pth"} <= paths
    assert {"PLBERT/step_1000000.t7", "ASR/epoch_00080.pth", "JDC/bst.t7"} <= paths
    assert all(f.url.startswith("https://") for f in mset.files)
    assert not downloads.is_installed(mset)
    with pytest.raises(StudioError, match="unknown model"):
        downloads.model_set("nosuch")
