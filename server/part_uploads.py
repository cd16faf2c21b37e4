"""PUT /uploads/{id}/parts/{n}: the parts of a direct upload, when storage is local.

On S3 the parts go to the bucket through presigned URLs and never reach Trove; on local
storage Trove hands out its own signed part URLs, so the same client code works on both.
The signature is the credential, as for content links.
"""

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from server.edge import respond_to
from services.errors import Forbidden, InvalidInput
from services.runtime import Services
from services.uploads import part_path


class PartUploadRoutes:
    def __init__(self, *, services: Services) -> None:
        self.services = services

    def routes(self) -> list[Route]:
        return [Route("/uploads/{upload_id}/parts/{number}", self.put_part, methods=["PUT"])]

    async def put_part(self, request: Request) -> Response:
        try:
            upload_id = request.path_params["upload_id"]
            raw_number = request.path_params["number"]
            if not raw_number.isdigit():
                raise InvalidInput("The part number must be a positive integer")
            number = int(raw_number)
            params = request.query_params
            uploads = self.services.uploads
            if not uploads.signer.verify(
                part_path(upload_id, number), params.get("expires"), params.get("signature")
            ):
                raise Forbidden("This part URL is invalid or has expired")
            etag = await uploads.receive_part(
                upload_id=upload_id, number=number, content=request.stream()
            )
        except ClientDisconnect:
            raise
        except Exception as error:
            return respond_to(request, error)
        return Response(status_code=200, headers={"ETag": etag})
