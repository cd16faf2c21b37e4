from models.asset import Asset, AssetLineage
from models.job import Job, JobStatus, Workflow
from models.user import ApiToken, User

__all__ = ["ApiToken", "Asset", "AssetLineage", "Job", "JobStatus", "User", "Workflow"]
