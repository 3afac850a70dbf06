"""The group session of the worker (config.settings.group_session_timeout): the broker kind's default unless set."""
import os

import pytest
from pydantic import ValidationError

from config.settings import Settings
from tests.engine_process import engine_printout

ENGINE = """
import sys, tempfile
from agents.engine import build_engine
from config.settings import Settings
engine = build_engine(Settings(data_dir=tempfile.mkdtemp()), embedded=sys.argv[1] == "embedded")
print(engine.app.conf.broker_session_timeout, engine.app.conf.broker_heartbeat_interval)
"""


@pytest.mark.parametrize("kind, setting, expected", [
    ("embedded", None, "4.0 1.0"),     # streams.broker_compat.FAST_JOIN_SETTINGS
    ("embedded", "12", "12.0 3.0"),
    ("kafka", None, "60.0 3.0"),       # Faust's defaults
    ("kafka", "30", "30.0 7.5"),
])
def test_the_session_is_the_broker_kinds_default_unless_set(kind, setting, expected):
    env = {key: value for key, value in os.environ.items() if key != "GROEIPAKKET_GROUP_SESSION_TIMEOUT"}
    if setting is not None:
        env["GROEIPAKKET_GROUP_SESSION_TIMEOUT"] = setting
    assert engine_printout(ENGINE, kind, env=env) == expected


def test_a_session_under_two_seconds_is_refused():
    with pytest.raises(ValidationError):
        Settings(group_session_timeout=1)
