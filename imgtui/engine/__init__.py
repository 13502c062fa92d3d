"""The domain layer: engine access and the records it returns. Imports nothing from Textual."""

from imgtui.engine.catalog import Catalog, Totals
from imgtui.engine.client import Engine, EngineError, EngineUnavailable, EventStream, describe
from imgtui.engine.connection import Endpoint, resolve_endpoint
from imgtui.engine.models import (
    NONE,
    Container,
    EngineEvent,
    EngineInfo,
    Image,
    Layer,
    OutcomeLine,
    Repository,
    Tag,
    short_id,
)
from imgtui.engine.reference import BadReference, validate
from imgtui.engine.removal import PlanChanged, PrunePlan, RemovalPlan

__all__ = [
    "NONE",
    "BadReference",
    "Container",
    "OutcomeLine",
    "PlanChanged",
    "PrunePlan",
    "RemovalPlan",
    "validate",
    "Catalog",
    "Endpoint",
    "Engine",
    "EngineError",
    "EngineEvent",
    "EngineInfo",
    "EngineUnavailable",
    "EventStream",
    "Image",
    "Layer",
    "Repository",
    "Tag",
    "Totals",
    "describe",
    "resolve_endpoint",
    "short_id",
]
