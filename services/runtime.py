from dataclasses import dataclass

from services.archives import ArchiveService
from services.assets import AssetService
from services.events import EventBroker
from services.jobs import JobService
from services.signing import UrlSigner
from services.thumbnails import ThumbnailService
from services.uploads import UploadService
from services.workflows import WorkflowService


@dataclass
class Services:
    """The long-lived service objects one server process shares between requests."""

    assets: AssetService
    workflows: WorkflowService
    jobs: JobService
    broker: EventBroker
    signer: UrlSigner
    thumbnails: ThumbnailService
    uploads: UploadService
    archives: ArchiveService
