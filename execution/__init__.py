"""Workflow execution: the node API, the registry of node types and the job runner."""

from execution.context import ProcessingContext
from execution.node import BaseNode, InputNode, OutputNode
from execution.refs import AssetRef, AudioRef, DocumentRef, ImageRef, JSONRef, TextRef, VideoRef

__all__ = [
    "AssetRef",
    "AudioRef",
    "BaseNode",
    "DocumentRef",
    "ImageRef",
    "InputNode",
    "JSONRef",
    "OutputNode",
    "ProcessingContext",
    "TextRef",
    "VideoRef",
]
