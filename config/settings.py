"""Runtime settings (pydantic-settings): environment variables, no code changes between environments.

``KAFKA_BOOTSTRAP`` is the broker address every command reads (default ``127.0.0.1:9092``); the other settings
carry the ``GROEIPAKKET_`` prefix (``GROEIPAKKET_PARTITIONS=8``, ``GROEIPAKKET_DATA_DIR=/var/lib/gp``, ...).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GROEIPAKKET_", extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:9092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP",
                                                                                 "GROEIPAKKET_KAFKA_BOOTSTRAP"))
    app_id: str = "groeipakket"
    partitions: int = Field(4, ge=1, le=256, description="partitions of every source, internal and changelog topic")
    data_dir: Path = Path("data/worker")
    web_port: int = 6066
    web_host: str = "127.0.0.1"
    broker_kind: Literal["auto", "embedded", "kafka"] = Field(
        "auto", description="auto: embedded when the broker carries the marker topic created by `groeipakket broker`")
    replication_factor: int | None = None
    state_cache_households: int = 20_000
    table_block_cache_mb: int = 32
    log_level: str = "warning"


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
