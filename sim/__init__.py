"""Synthetic Flemish population and its source events (contract v1 §2/§3), deterministic and streaming.

- :class:`sim.config.SimulationConfig` — size, seed, span, fault rates and the demographic rates.
- :func:`generate_events` — household by household: dicts (valid events, duplicates) and ``bytes`` (invalid
  records, to be written as they are).
- :func:`generate_timeline` — the same items, globally ordered by arrival time (bounded-memory external merge).
- :func:`generate_lines` / :func:`generate_timeline_lines` — JSON Lines (``bytes`` ending in ``\\n``).
- :func:`write_jsonl` — write a ``.jsonl`` file, return counts per type.

Run ``groeipakket simulate --help`` for the command-line form.
"""
from sim.population import SimulationConfig, generate_events
from sim.timeline import generate_lines, generate_timeline, generate_timeline_lines, write_jsonl

__all__ = ["SimulationConfig", "generate_events", "generate_timeline", "generate_lines", "generate_timeline_lines",
           "write_jsonl"]
