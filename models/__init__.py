from models.asset import Asset, AssetLineage
from models.event import Event
from models.job import Job, JobStatus, Workflow
from models.upload import DirectUpload
from models.user import ApiToken, User

__all__ = [
    "ApiToken",
    "Asset",
    "AssetLineage",
    "DirectUpload",
    "Event",
    "Job",
    "JobStatus",
    "User",
    "Workflow",
]
