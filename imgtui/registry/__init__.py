"""The registry side: the Registry HTTP API v2 through `requests`. No Textual in here."""

from imgtui.registry.auth import Credentials
from imgtui.registry.client import Registry, check_address, is_loopback, split_address
from imgtui.registry.errors import AuthRequired, DeleteDisabled, NotFound, RegistryError
from imgtui.registry.models import ImageConfig, Manifest, Page, Platform, RemoteLayer, RemoteTag

__all__ = [
    "AuthRequired",
    "Credentials",
    "DeleteDisabled",
    "ImageConfig",
    "Manifest",
    "NotFound",
    "Page",
    "Platform",
    "Registry",
    "RegistryError",
    "RemoteLayer",
    "RemoteTag",
    "check_address",
    "is_loopback",
    "split_address",
]
