"""The export contract in the repository says what the readers enforce."""

from pathlib import Path

from dagster_project.ingest.contract_document import DOCUMENT, render_contract
from dagster_project.ingest.contracts import SOURCE_CONTRACTS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_document_is_written_from_the_contracts_the_readers_enforce():
    assert DOCUMENT.read_text(encoding="utf-8") == render_contract(), (
        "EXPORT_CONTRACT.md differs from dagster_project/ingest/contracts.py: "
        "run `python -m dagster_project.ingest.contract_document`")


def test_every_source_column_and_format_is_documented():
    document = render_contract()
    for contract in SOURCE_CONTRACTS:
        assert f"`{contract.folder}/{contract.file_stem}_YYYY-MM-DD{contract.suffix}`" in document
        for column in contract.columns or contract.required:
            assert f"| `{column}` | {'yes' if column in contract.required else ''} |" in document
        for name, field_format in contract.formats.items():
            assert f"| `{name}` |" in document and field_format.value in document


def test_the_readme_links_the_document_inside_the_repository():
    readme = README.read_text(encoding="utf-8")
    assert "(dagster_project/ingest/EXPORT_CONTRACT.md)" in readme and "../shared/" not in readme
