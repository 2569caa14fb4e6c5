"""The offline model: a deterministic, network-free `BaseChatModel` for every agent seat."""

from miot_harness.models.offline.chat_model import OfflineChatModel

__all__ = ["OfflineChatModel"]
