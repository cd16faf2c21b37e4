from models.asset import Asset, AssetLineage, AssetTag
from models.event import Event
from models.job import AutoSaveMode, Job, JobStatus, Workflow
from models.upload import DirectUpload
from models.user import ApiToken, User

__all__ = [
    "ApiToken",
    "Asset",
    "AssetLineage",
    "AssetTag",
    "AutoSaveMode",
    "DirectUpload",
    "Event",
    "Job",
    "JobStatus",
    "User",
    "Workflow",
]
