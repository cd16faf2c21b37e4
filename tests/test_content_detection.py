"""ZIP containers are told apart by their parts: real Office and OpenDocument files, a
plain ZIP, and the claims that may or may not refine them. Uploads and auto-save alike."""

import io
import os
import zipfile

import pytest

from execution import AssetRef, ProcessingContext
from execution.autosave import asset_name, content_type_of, save_outputs
from services import content_types, users
from services.content_types import DOCX, PPTX, XLSX, ZIP
from tests.conftest import TroveClient

ODT = "application/vnd.oasis.opendocument.text"
CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{main}"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{part}"/></Relationships>'
)
MAIN = {
    DOCX: (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>",
    ),
    XLSX: (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>',
    ),
    PPTX: (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>',
    ),
}


def office(kind: str, *, padding: int = 0) -> bytes:
    """A minimal Office Open XML package, as Word, Excel and PowerPoint lay them out.

    `padding` puts a stored (uncompressed) thumbnail of that many bytes before the
    application's parts, as some writers do.
    """
    part, main, xml = MAIN[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", CONTENT_TYPES_XML.format(part=part, main=main))
        package.writestr("_rels/.rels", RELS.format(part=part))
        if padding:
            package.writestr(
                "docProps/thumbnail.jpeg", os.urandom(padding), compress_type=zipfile.ZIP_STORED
            )
        package.writestr(part, xml)
    return buffer.getvalue()


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        # OpenDocument: `mimetype` first and stored, so a reader can identify it from the head.
        package.writestr("mimetype", ODT, compress_type=zipfile.ZIP_STORED)
        package.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes/readme.txt", "a plain archive")
        archive.writestr("word/not-really.txt", "a folder called word, not at the start")
    return buffer.getvalue()


def test_the_files_are_real() -> None:
    # What an Office reader checks first: the package opens and names its main part.
    for kind, (part, _, _) in MAIN.items():
        with zipfile.ZipFile(io.BytesIO(office(kind))) as package:
            assert package.testzip() is None
            assert part in package.namelist()
    with zipfile.ZipFile(io.BytesIO(odt())) as package:
        assert package.read("mimetype").decode() == ODT


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (office(DOCX), DOCX),
        (office(XLSX), XLSX),
        (office(PPTX), PPTX),
        (odt(), ODT),
        (plain_zip(), ZIP),
        (b"PK\x05\x06" + b"\x00" * 18, ZIP),  # the empty archive
    ],
    ids=["docx", "xlsx", "pptx", "odt", "zip", "empty-zip"],
)
async def test_uploads_without_a_claim_are_detected(
    client: TroveClient, content: bytes, expected: str
) -> None:
    asset = await client.upload(
        content, filename="upload", file_content_type="application/octet-stream"
    )
    assert asset["data"]["createAsset"]["contentType"] == expected, asset


async def test_an_upload_s_claim_wins_unless_it_only_says_zip(client: TroveClient) -> None:
    said_zip = await client.upload(
        office(XLSX), filename="sheet", file_content_type="application/zip"
    )
    assert said_zip["data"]["createAsset"]["contentType"] == XLSX
    specific = await client.upload(office(PPTX), filename="deck", file_content_type=PPTX)
    assert specific["data"]["createAsset"]["contentType"] == PPTX
    archive = await client.upload(plain_zip(), filename="a.zip", file_content_type=ZIP)
    assert archive["data"]["createAsset"]["contentType"] == ZIP


def test_a_claim_refines_a_generic_detection_only_when_it_fits() -> None:
    far = office(XLSX, padding=16 * 1024)  # the `xl/` part is beyond the sniffed bytes
    assert content_types.detect(far[:8192]) == ZIP
    assert content_types.refine(ZIP, XLSX) == XLSX
    assert content_types.refine(ZIP, "image/png") == ZIP
    assert content_types.refine(DOCX, XLSX) == DOCX  # the parts say Word: they win
    assert content_types.refine(ZIP, None) == ZIP


def test_auto_save_keeps_the_node_s_office_claim() -> None:
    # The bug: an Excel file from a node that said so was stored as a Word document.
    assert content_type_of(AssetRef(content_type=XLSX), office(XLSX)) == XLSX
    assert content_type_of(AssetRef(content_type=XLSX), office(XLSX, padding=16 * 1024)) == XLSX
    assert content_type_of(AssetRef(content_type=XLSX), office(DOCX)) == DOCX
    assert content_type_of(AssetRef(content_type="image/png"), plain_zip()) == ZIP
    assert content_type_of(AssetRef(), plain_zip()) == ZIP
    assert content_type_of(AssetRef(content_type=PPTX), office(PPTX)) == PPTX


async def test_auto_saved_office_files_and_their_names(client: TroveClient) -> None:
    owner = await users.get_or_create_user(name=users.LOCAL_USER_NAME)
    context = ProcessingContext(services=client.services, user=owner, job_id="j-office")
    sheet = AssetRef(data=office(XLSX, padding=16 * 1024), content_type=XLSX)
    archive = AssetRef(data=plain_zip())
    ids = await save_outputs(
        context,
        outputs={"sheet": sheet, "archive": archive},
        node_id="export-1",
        title="Export Table",
        derived_from=[],
    )
    stored = [await context.get_asset(i) for i in ids]
    assert [(a.name, a.content_type) for a in stored] == [
        ("Export_Table_sheet_export-1.xlsx", XLSX),
        ("Export_Table_archive_export-1.zip", ZIP),
    ]


def test_auto_saved_names_have_no_spaces() -> None:
    assert asset_name("Create Image", "output", "red", "image/png") == "Create_Image_output_red.png"
    assert asset_name("Render  Text", "output-2", "a b", "text/plain") == (
        "Render_Text_output-2_a_b.txt"
    )
