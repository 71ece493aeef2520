"""Acquisition of raw competition zips from a mirror directory and from the Kaggle API.

Kaggle's servers cannot exist here: tests named ``..._fake_kaggle_server`` run the real
``kaggle`` client against tests/fake_kaggle.py on 127.0.0.1, and every socket connection to
anywhere else fails the test.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import webbrowser
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fake_kaggle import DOWNLOAD, INTROSPECT, LEADERBOARD, FakeKaggle
from mlepipe.grading.leaderboards import kaggle_leaderboard
from mlepipe.sources import (
    AcquisitionError,
    FetchedZip,
    KaggleSource,
    MirrorSource,
    make_source,
    with_retries,
)

SLUG = "tiny-competition"
COMP_ID = "tiny"  # differs from the slug: files are named by competition id


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def nested_zip(extra: bytes = b"") -> bytes:
    """Shaped like a Kaggle download: a csv and a zip inside the zip."""
    inner = make_zip({"test.csv": b"id\n1\n2\n"})
    members = {"train.csv": b"id,label\n1,0\n2,1\n" * 50, "test.zip": inner}
    if extra:
        members["notes.txt"] = extra
    return make_zip(members)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def leftovers(directory: Path) -> list[str]:
    """Temporary files or folders left in a destination directory."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def no_internet(monkeypatch):
    """Fail any socket connection that is not to this machine."""
    real_connect = socket.socket.connect
    refused: list[object] = []

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            refused.append(address)
            raise OSError(f"test tried to connect to {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield
    assert refused == [], f"connections outside this machine were attempted: {refused}"


@pytest.fixture
def fake(tmp_path, monkeypatch, no_internet):
    """A running fake Kaggle server, the real client routed to it, credentials in the env."""
    for name in list(os.environ):
        lowered = name.lower()
        if name.startswith("KAGGLE_") or lowered in ("no_proxy", "all_proxy", "xdg_config_home"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no real ~/.kaggle is read or written
    with FakeKaggle(competitions={SLUG: nested_zip()}) as server:
        for name, value in server.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("KAGGLE_USERNAME", server.username)
        monkeypatch.setenv("KAGGLE_KEY", server.key)
        yield server
    # The client talked to the local endpoint only: nothing went out through https.
    assert [s.url for s in server.seen if s.method == "CONNECT"] == []
    assert {urlsplit(s.url).hostname for s in server.seen} <= {"localhost"}


def fast(retries: int = 2) -> KaggleSource:
    return KaggleSource(retries=retries, backoff_seconds=0.0)


# --- Kaggle through the fake server ---------------------------------------------------------


def test_download_records_md5_and_renames_fake_kaggle_server(fake, tmp_path):
    dest = tmp_path / "raw"
    fetched = fast().fetch(COMP_ID, SLUG, dest)

    data = fake.competitions[SLUG]
    assert fetched == FetchedZip(path=dest / "tiny.zip", md5=md5(data), source="kaggle")
    assert (dest / "tiny.zip").read_bytes() == data
    assert (dest / "tiny.zip.md5").read_text() == f"{md5(data)}  tiny.zip\n"
    assert sorted(p.name for p in dest.iterdir()) == ["tiny.zip", "tiny.zip.md5"]
    # The real client asked the API for the competition, then fetched the redirect target.
    [call] = fake.calls(DOWNLOAD)
    assert call.url == f"http://localhost/api/v1/{DOWNLOAD}"
    assert call.body == {"competitionName": SLUG}
    assert call.auth is not None and call.auth.startswith("Basic ")
    assert [s.url for s in fake.seen if s.method == "GET"] == [
        f"http://localhost/storage/{SLUG}.zip?X-Goog-Signature=secret"
    ]


def test_zip_gets_its_name_only_when_complete_fake_kaggle_server(fake, tmp_path):
    dest = tmp_path / "raw"
    during: list[list[str]] = []
    fake.on_storage_get = lambda: during.append(sorted(os.listdir(dest)))

    fast().fetch(COMP_ID, SLUG, dest)

    [names] = during  # while the body was being sent: a hidden work folder only
    assert len(names) == 1 and names[0].startswith(".tiny.zip.download-")
    assert sorted(os.listdir(dest)) == ["tiny.zip", "tiny.zip.md5"]


def test_second_fetch_reuses_zip_without_download_fake_kaggle_server(fake, tmp_path):
    dest = tmp_path / "raw"
    first = fast().fetch(COMP_ID, SLUG, dest)
    (dest / "tiny.zip.md5").unlink()
    second = fast().fetch(COMP_ID, SLUG, dest)

    assert second == first
    assert len(fake.calls(DOWNLOAD)) == 1
    assert (dest / "tiny.zip.md5").read_text() == f"{first.md5}  tiny.zip\n"


def test_kaggle_json_credentials_fake_kaggle_server(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    config = tmp_path / "kaggle-config"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": fake.username, "key": fake.key}))
    (config / "kaggle.json").chmod(0o600)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config))

    fetched = fast().fetch(COMP_ID, SLUG, tmp_path / "raw")

    assert fetched.path.is_file()
    [call] = fake.calls(DOWNLOAD)
    assert call.auth == "Basic " + "ZmFrZS11c2VyOmZha2Uta2V5"  # fake-user:fake-key


def test_api_token_credentials_fake_kaggle_server(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    fake.token = "token-123"
    monkeypatch.setenv("KAGGLE_API_TOKEN", fake.token)

    fetched = fast().fetch(COMP_ID, SLUG, tmp_path / "raw")

    assert fetched.md5 == md5(fake.competitions[SLUG])
    assert fake.calls(INTROSPECT), "the client checks a token before using it"
    assert fake.calls(DOWNLOAD)[0].auth == "Bearer token-123"


def test_missing_credentials_say_where_to_put_them_fake_kaggle_server(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "cfg"))
    dest = tmp_path / "raw"

    with pytest.raises(AcquisitionError) as caught:
        fast().fetch(COMP_ID, SLUG, dest)

    message = str(caught.value)
    assert "no Kaggle credentials" in message
    assert str(tmp_path / "cfg" / "kaggle.json") in message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message
    assert "\n" not in message
    assert fake.calls(DOWNLOAD) == []
    assert not (dest / "tiny.zip").exists()


def test_unusable_kaggle_json_is_named_fake_kaggle_server(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.delenv("KAGGLE_KEY")
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "kaggle.json").write_text('{"user": "someone"}')
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config))

    with pytest.raises(AcquisitionError, match=r"cfg/kaggle.json holds no usable Kaggle cred"):
        fast().fetch(COMP_ID, SLUG, tmp_path / "raw")
    assert fake.calls(DOWNLOAD) == []


def test_bad_credentials_401_fake_kaggle_server(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_KEY", "wrong-key")

    with pytest.raises(AcquisitionError, match=r"rejected the credentials \(HTTP 401"):
        fast().fetch(COMP_ID, SLUG, tmp_path / "raw")
    assert len(fake.calls(DOWNLOAD)) == 1, "an authentication failure is not retried"


def test_rules_not_accepted_403_names_rules_page_fake_kaggle_server(fake, tmp_path):
    fake.rules_not_accepted.add(SLUG)
    dest = tmp_path / "raw"

    with pytest.raises(AcquisitionError) as caught:
        fast().fetch(COMP_ID, SLUG, dest)

    message = str(caught.value)
    assert f"https://www.kaggle.com/c/{SLUG}/rules" in message
    assert "accept" in message and "HTTP 403" in message
    assert len(fake.calls(DOWNLOAD)) == 1
    assert leftovers(dest) == [] and not (dest / "tiny.zip").exists()


def test_unknown_competition_404_names_slug_fake_kaggle_server(fake, tmp_path):
    with pytest.raises(AcquisitionError, match="no competition 'no-such-competition'.*HTTP 404"):
        fast().fetch("whatever", "no-such-competition", tmp_path / "raw")
    assert len(fake.calls(DOWNLOAD)) == 1


def test_transient_failures_are_retried_fake_kaggle_server(fake, tmp_path):
    fake.download_failures = [503, "reset"]

    fetched = fast(retries=2).fetch(COMP_ID, SLUG, tmp_path / "raw")

    assert fetched.md5 == md5(fake.competitions[SLUG])
    assert len(fake.calls(DOWNLOAD)) == 3
    assert leftovers(tmp_path / "raw") == []


def test_persistent_503_gives_up_after_retries_fake_kaggle_server(fake, tmp_path):
    fake.download_failures = [503] * 10
    dest = tmp_path / "raw"

    with pytest.raises(AcquisitionError, match=f"'{SLUG}' failed 3 times.*HTTPError.*503"):
        fast(retries=2).fetch(COMP_ID, SLUG, dest)

    assert len(fake.calls(DOWNLOAD)) == 3
    assert sorted(os.listdir(dest)) == []


def test_corrupt_download_leaves_no_zip_fake_kaggle_server(fake, tmp_path):
    fake.competitions[SLUG] = nested_zip()[:-100]  # central directory cut off
    dest = tmp_path / "raw"

    with pytest.raises(AcquisitionError) as caught:
        fast().fetch(COMP_ID, SLUG, dest)

    message = str(caught.value)
    assert "not a valid zip" in message and str(dest / "tiny.zip") in message
    assert "rerun" in message
    assert sorted(os.listdir(dest)) == []


def test_storage_failure_hides_signed_url_fake_kaggle_server(fake, tmp_path):
    fake.storage_failure = 500  # the signed storage URL appears in the client's error

    with pytest.raises(AcquisitionError) as caught:
        fast(retries=1).fetch(COMP_ID, SLUG, tmp_path / "raw")

    message = str(caught.value)
    assert "failed 2 times" in message and "500" in message
    assert "Signature" not in message and "secret" not in message
    assert len(fake.calls(DOWNLOAD)) == 2


def test_client_prompt_or_browser_is_refused():
    with pytest.raises(AcquisitionError, match="interactive input"):
        with_retries(lambda: input("Continue? "), SLUG, retries=0, backoff_seconds=0.0)
    with pytest.raises(AcquisitionError, match="open a browser"):
        with_retries(lambda: webbrowser.open("https://example.org"), SLUG, 0, 0.0)


def test_leaderboard_all_pages_fake_kaggle_server(fake):
    rows = [
        {
            "teamId": i,
            "teamName": f"team {i}",
            "submissionDate": "2020-01-02T03:04:05Z",
            "score": f"{1 - i / 1000:.5f}",
        }
        for i in range(1, 451)
    ]
    fake.leaderboards[SLUG] = rows

    board = kaggle_leaderboard(SLUG, backoff_seconds=0.0)

    assert len(board) == 450
    assert {"teamId", "teamName", "submissionDate", "score"} <= set(board.columns)
    assert board["score"].dtype.kind == "f"
    assert board["score"].iloc[0] == pytest.approx(0.999)
    assert board["teamId"].tolist() == list(range(1, 451))
    pages = fake.calls(LEADERBOARD)
    assert len(pages) == 3 and pages[0].body["competitionName"] == SLUG


def test_leaderboard_unknown_competition_fake_kaggle_server(fake):
    with pytest.raises(AcquisitionError, match="no competition 'nope'"):
        kaggle_leaderboard("nope", backoff_seconds=0.0)


# --- mirror -------------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path) -> Path:
    directory = tmp_path / "mirror"
    directory.mkdir()
    (directory / f"{COMP_ID}.zip").write_bytes(nested_zip())
    (directory / "leaf-classification.zip").write_bytes(make_zip({"a.csv": b"x\n"}))
    return directory


def test_mirror_copies_zip_and_records_md5(mirror, tmp_path):
    dest = tmp_path / "raw"
    fetched = MirrorSource(mirror).fetch(COMP_ID, SLUG, dest)

    data = (mirror / "tiny.zip").read_bytes()
    assert fetched == FetchedZip(path=dest / "tiny.zip", md5=md5(data), source=f"mirror:{mirror}")
    assert fetched.path.read_bytes() == data
    assert (dest / "tiny.zip.md5").read_text() == f"{md5(data)}  tiny.zip\n"
    assert sorted(os.listdir(dest)) == ["tiny.zip", "tiny.zip.md5"]


def test_mirror_reuses_zip_already_in_place(mirror, tmp_path):
    dest = tmp_path / "raw"
    first = MirrorSource(mirror).fetch(COMP_ID, SLUG, dest)
    (mirror / "tiny.zip").unlink()  # nothing left to copy from

    assert MirrorSource(mirror).fetch(COMP_ID, SLUG, dest) == first


def test_mirror_missing_zip_names_expected_path(mirror, tmp_path):
    with pytest.raises(AcquisitionError) as caught:
        MirrorSource(mirror).fetch("leaf-classificaton", "leaf-classificaton", tmp_path / "raw")
    message = str(caught.value)
    assert f"{mirror / 'leaf-classificaton.zip'} not found" in message
    assert "holds 2 zip files" in message and "leaf-classification.zip" in message
    assert "tiny.zip" not in message, "only near names are suggested, not the whole mirror"
    assert not (tmp_path / "raw").exists()


def test_mirror_directory_missing(tmp_path):
    with pytest.raises(AcquisitionError, match="mirror directory .*nowhere does not exist"):
        MirrorSource(tmp_path / "nowhere").fetch(COMP_ID, SLUG, tmp_path / "raw")


def test_mirror_corrupt_zip_leaves_nothing(mirror, tmp_path):
    (mirror / "tiny.zip").write_bytes(nested_zip()[:-100])
    dest = tmp_path / "raw"

    with pytest.raises(AcquisitionError) as caught:
        MirrorSource(mirror).fetch(COMP_ID, SLUG, dest)

    message = str(caught.value)
    assert f"{mirror / 'tiny.zip'} is not a valid zip" in message and "re-stage" in message
    assert sorted(os.listdir(dest)) == []


def test_mirror_member_with_bad_crc_is_rejected(mirror, tmp_path):
    good = nested_zip()
    start = good.index(b"test.zip") + len(b"test.zip") + 10  # inside a member's data
    (mirror / "tiny.zip").write_bytes(
        good[:start] + bytes([good[start] ^ 0xFF]) + good[start + 1 :]
    )

    with pytest.raises(AcquisitionError, match="tiny.zip is not a valid zip"):
        MirrorSource(mirror).fetch(COMP_ID, SLUG, tmp_path / "raw")
    assert not (tmp_path / "raw" / "tiny.zip").exists()


def test_damaged_zip_already_in_destination_is_not_reused(mirror, tmp_path):
    dest = tmp_path / "raw"
    dest.mkdir()
    (dest / "tiny.zip").write_bytes(b"not a zip")
    (mirror / "tiny.zip").unlink()  # nothing to copy again: the damaged copy is an error

    with pytest.raises(
        AcquisitionError, match=r"raw/tiny.zip exists but is not a valid zip.*delete"
    ):
        MirrorSource(mirror).fetch(COMP_ID, SLUG, dest)


def test_zip_restaged_in_the_mirror_replaces_the_copy(mirror, tmp_path):
    dest = tmp_path / "raw"
    first = MirrorSource(mirror).fetch(COMP_ID, SLUG, dest)
    again = MirrorSource(mirror).fetch(COMP_ID, SLUG, dest)
    assert again.md5 == first.md5
    restaged = nested_zip(extra=b"a re-staged download")
    (mirror / "tiny.zip").write_bytes(restaged)
    fetched = MirrorSource(mirror).fetch(COMP_ID, SLUG, dest)
    assert fetched.md5 != first.md5 and (dest / "tiny.zip").read_bytes() == restaged


def test_original_kaggle_download_from_shared_mirror(shared, tmp_path):
    mirror_dir = shared / "kaggle-mirror"
    source_zip = mirror_dir / "spaceship-titanic.zip"
    if not source_zip.is_file():
        pytest.skip(f"reference mirror absent: {source_zip}")
    fetched = MirrorSource(mirror_dir).fetch("spaceship-titanic", "spaceship-titanic", tmp_path)
    assert fetched.md5 == md5(source_zip.read_bytes())
    with zipfile.ZipFile(fetched.path) as zf:
        assert {"train.csv", "test.csv", "sample_submission.csv"} <= set(zf.namelist())


# --- choosing a source --------------------------------------------------------------------


def test_make_source_prefers_mirror(tmp_path):
    chosen = make_source(tmp_path)
    assert isinstance(chosen, MirrorSource) and chosen.mirror_dir == tmp_path
    assert isinstance(make_source(None), KaggleSource)
    assert isinstance(make_source(""), KaggleSource)  # an empty setting means no mirror
