"""The test's Redis-protocol server: the benchmark's (one definition for both)."""

from bench.valkey_server import Valkey

__all__ = ["Valkey"]
