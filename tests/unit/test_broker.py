import json
import os

from kombu import Connection

from tutor.broker import Transport


def test_the_filesystem_url_selects_the_atomic_transport(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://", transport_options=options) as connection:
        assert isinstance(connection.transport, Transport)


def test_a_message_appears_whole_or_not_at_all(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "polling_interval": 0.01}
    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.default_channel
        seen = []
        original_replace = os.replace

        def spy(source, target):
            # Just before the rename, no file a consumer would match exists yet.
            seen.append(sorted(name for name in os.listdir(tmp_path) if name.endswith(".q.msg")))
            original_replace(source, target)

        os.replace = spy
        try:
            channel._put("q", {"body": "x" * 10_000})
        finally:
            os.replace = original_replace
        assert seen == [[]]
        [name] = os.listdir(tmp_path)
        assert name.endswith(".q.msg")
        assert json.loads((tmp_path / name).read_text())["body"] == "x" * 10_000
