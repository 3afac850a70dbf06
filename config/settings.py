"""Runtime settings (pydantic-settings): environment variables, no code changes between environments.

``KAFKA_BOOTSTRAP`` is the broker address every command reads (default ``127.0.0.1:9092``); the other settings
carry the ``GROEIPAKKET_`` prefix (``GROEIPAKKET_PARTITIONS=8``, ``GROEIPAKKET_DATA_DIR=/var/lib/gp``, ...).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


MIN_API_TOKEN_LENGTH = 16


class Settings(BaseSettings):
    # hide_input_in_errors: a validation error never echoes a value (tokens, passwords) into a log.
    model_config = SettingsConfigDict(env_prefix="GROEIPAKKET_", extra="ignore", hide_input_in_errors=True)

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
    # Decoded household states kept in memory in front of the table (a hit skips JSON decoding and validation)
    # for households that receive facts; period closes scan every household without filling it. Measured up to
    # ~270 KiB per household with its calculator and a year of caches: 2 000 keep the cache under ~0.55 GiB
    # whatever the population. More is not better: every object held costs the cycle collector on each full
    # collection (a 5 000-household cache took half the time of a close in the collector).
    state_cache_households: int = 2_000
    table_block_cache_mb: int = 32
    # Compression of every record batch the engine and its commands produce (Kafka's producer-side codec; the
    # broker stores batches as they come and consumers decompress them). In zstd batches (level 3) the JSON
    # states and facts cost less network and disk, and on the embedded broker, which keeps every record in
    # memory, 5.1x less memory (10 000 households, four months). zstd, not lz4: aiokafka compresses lz4 at
    # level 9, 4x slower than zstd here (README "Figures"). "none": off.
    compression: Literal["zstd", "lz4", "snappy", "gzip", "none"] = "zstd"
    log_level: str = "warning"
    # The consumer group session of the worker, in seconds (heartbeat a quarter of it). None: the broker kind's
    # default (4 s on the embedded broker, for its slow first join; Faust's 60 s on Kafka). A worker whose process
    # stands still longer than this loses its partitions (a rebalance: exact, but the work is done again);
    # groeipakket_event_loop_lag_seconds shows how long it stands still (agents/pauses.py).
    group_session_timeout: float | None = Field(None, ge=2.0, le=300.0)
    # The worker's asyncio event loop. uvloop (libuv) runs the same coroutines with less overhead per callback;
    # a worker dispatches several callbacks per Kafka message, so this is CPU per record (README "Figures").
    # "asyncio" is the standard library's loop (also the fallback where uvloop is not installed).
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"
    # Kafka security (SECURITY.md): PLAINTEXT for the embedded broker; SASL_SSL with SCRAM in production.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None

    # Explanation API on the worker's web server (agents/web.py): off unless enabled, then only with a bearer token.
    api_enabled: bool = False
    api_token: SecretStr | None = None

    @model_validator(mode="after")
    def _api_needs_a_token(self):
        if self.api_enabled:
            token = self.api_token.get_secret_value() if self.api_token is not None else ""
            if len(token.strip()) < MIN_API_TOKEN_LENGTH:
                raise ValueError(f"GROEIPAKKET_API_ENABLED needs GROEIPAKKET_API_TOKEN (at least "
                                 f"{MIN_API_TOKEN_LENGTH} characters)")
        return self

    def ssl_context(self):
        if "SSL" not in self.kafka_security_protocol:
            return None
        from aiokafka.helpers import create_ssl_context

        return create_ssl_context(cafile=self.kafka_ssl_cafile and str(self.kafka_ssl_cafile),
                                  certfile=self.kafka_ssl_certfile and str(self.kafka_ssl_certfile),
                                  keyfile=self.kafka_ssl_keyfile and str(self.kafka_ssl_keyfile))

    @property
    def compression_type(self) -> str | None:
        """The producer's ``compression_type`` (aiokafka and Faust's ``producer_compression_type``)."""
        return None if self.compression == "none" else self.compression

    def producer_options(self) -> dict:
        """Keyword arguments for the commands' aiokafka producers: security and compression."""
        return {**self.aiokafka_security(), "compression_type": self.compression_type}

    def aiokafka_security(self) -> dict:
        """Keyword arguments for aiokafka clients (producers, consumers, admin)."""
        options: dict = {"security_protocol": self.kafka_security_protocol}
        if "SASL" in self.kafka_security_protocol:
            options.update(sasl_mechanism=self.kafka_sasl_mechanism, sasl_plain_username=self.kafka_sasl_username,
                           sasl_plain_password=self.kafka_sasl_password and
                           self.kafka_sasl_password.get_secret_value())
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        return options

    def faust_credentials(self):
        """Faust ``broker_credentials`` for the same settings (None for PLAINTEXT)."""
        import faust

        if "SASL" in self.kafka_security_protocol:
            return faust.SASLCredentials(username=self.kafka_sasl_username,
                                         password=self.kafka_sasl_password and
                                         self.kafka_sasl_password.get_secret_value(),
                                         mechanism=self.kafka_sasl_mechanism, ssl_context=self.ssl_context())
        if self.kafka_security_protocol == "SSL":
            return faust.SSLCredentials(self.ssl_context())
        return None


def load_settings(**overrides) -> Settings:
    return Settings(**overrides)
