"""Flywheel's Python client: the HTTP API for trainers, and reward adapters for Flow-GRPO and verl-omni."""

from .errors import (
    FlywheelAuthError,
    FlywheelConflictError,
    FlywheelError,
    FlywheelNotFoundError,
    FlywheelUnavailableError,
    FlywheelValidationError,
)
from .client import ExportResult, FlywheelClient, encode_features
from .adapters import flow_grpo_reward_fn, verl_compute_score

__all__ = [
    "FlywheelClient",
    "ExportResult",
    "encode_features",
    "FlywheelError",
    "FlywheelValidationError",
    "FlywheelAuthError",
    "FlywheelNotFoundError",
    "FlywheelConflictError",
    "FlywheelUnavailableError",
    "flow_grpo_reward_fn",
    "verl_compute_score",
]
__version__ = "0.1.0"
