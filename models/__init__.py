from models.asset import Asset, AssetLineage
from models.event import Event
from models.job import Job, JobStatus, Workflow
from models.user import ApiToken, User

__all__ = ["ApiToken", "Asset", "AssetLineage", "Event", "Job", "JobStatus", "User", "Workflow"]
