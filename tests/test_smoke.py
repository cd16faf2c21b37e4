from tests.conftest import TroveClient


async def test_upload_then_find_by_tracking(client: TroveClient) -> None:
    body = await client.upload(b"hello world", filename="greeting.txt", nodeId="n1", jobId="j1")
    asset = body["data"]["createAsset"]
    assert asset["name"] == "greeting.txt"
    assert asset["contentType"] == "text/plain"
    data = await client.data('{ assets(jobId: "j1") { totalCount nodes { id } } }')
    assert data["assets"]["totalCount"] == 1
    assert data["assets"]["nodes"][0]["id"] == asset["id"]
