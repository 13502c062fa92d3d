"""Cleanup policies (domain layer, no Textual): a Policy from flags or a JSON file, the Plan it makes of the
engine's real state, applying it, and the state kept on disk (last-used times, the lock)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from imgtui.cleanup.plan import Item, Kept, Plan, Skipped, apply, make_plan
from imgtui.cleanup.policy import Policy, PolicyError, from_file, from_mapping, parse_size
from imgtui.cleanup.state import Locked, UsageLog, cleanup_lock, state_folder, used_ref

if TYPE_CHECKING:
    from imgtui.engine import Engine, OutcomeLine

__all__ = ["Item", "Kept", "Locked", "Plan", "Policy", "PolicyError", "Skipped", "UsageLog", "apply",
           "cleanup_lock", "from_file", "from_mapping", "make_plan", "parse_size", "plan_for", "run_plan",
           "state_folder", "used_ref"]  # fmt: skip


def plan_for(engine: Engine, policy: Policy, uses: Mapping[str, float], now: float | None = None) -> Plan:
    """The plan on the engine's state now (four requests; on the containerd store an inspect and a
    history for each image not seen before)."""
    return make_plan(engine.removal_state(), policy, uses, now)


def run_plan(engine: Engine, plan: Plan) -> Iterator[OutcomeLine]:
    """Apply the plan, passing on each engine answer; raises PlanChanged before removing anything if the
    engine moved since the preview, EngineError if the engine goes away on the way."""
    yield from engine._stream("cleaning up", apply(engine.api, plan, engine.removal_state))
