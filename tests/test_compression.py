"""Producer compression (config.settings.compression): one setting for the worker and every command's producer.

That the broker stores compressed batches and Faust recovers a table exactly from a compressed changelog is
checked against the embedded broker in tests/integration/test_embedded_broker.py."""
import os

import pytest
from pydantic import ValidationError

from config.settings import Settings
from tests.engine_process import engine_printout

ENGINE = """
import tempfile
from agents.engine import build_engine
from config.settings import Settings
engine = build_engine(Settings(data_dir=tempfile.mkdtemp()), embedded=True)
print(engine.app.conf.producer_compression_type)
"""


def test_the_default_is_zstd_for_the_commands_and_none_switches_it_off():
    assert Settings().producer_options()["compression_type"] == "zstd"
    assert Settings(compression="none").compression_type is None
    assert Settings(compression="lz4").producer_options()["compression_type"] == "lz4"
    with pytest.raises(ValidationError):
        Settings(compression="brotli")


def test_every_codec_the_setting_offers_is_installed():
    from aiokafka import codec

    for name in ("zstd", "lz4", "snappy", "gzip"):
        encoded = getattr(codec, f"{name}_encode")(b'{"type":"person.registered"}' * 50)
        assert getattr(codec, f"{name}_decode")(encoded) == b'{"type":"person.registered"}' * 50


@pytest.mark.parametrize("setting, expected", [(None, "zstd"), ("none", "None"), ("lz4", "lz4")])
def test_the_worker_produces_with_the_configured_codec(setting, expected):
    env = {key: value for key, value in os.environ.items() if key != "GROEIPAKKET_COMPRESSION"}
    if setting is not None:
        env["GROEIPAKKET_COMPRESSION"] = setting
    assert engine_printout(ENGINE, env=env) == expected
