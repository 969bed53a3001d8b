"""forms: what is asked, and how it looks on paper.

The domain every other Seda package builds on; it imports nothing of theirs.
"""
from .definition import (
    Form,
    FormCatalog,
    FormDefinitionError,
    Option,
    Question,
    Text,
    UnknownForm,
    builtin_catalog,
    load_form_file,
)
from .home import seda_home
from .layout import SheetLayout, build_layout
from .office_keys import ensure_key, load_key
from .paper import render_sheets
from .sheet_code import SheetCode, SheetCodeError, parse as parse_sheet_code, sign, validate_office_code
from .sheet_code import verify as verify_sheet_code

__all__ = [
    "Form", "FormCatalog", "FormDefinitionError", "Option", "Question", "Text", "UnknownForm",
    "builtin_catalog", "load_form_file", "seda_home", "SheetLayout", "build_layout",
    "ensure_key", "load_key", "render_sheets", "SheetCode", "SheetCodeError",
    "parse_sheet_code", "sign", "validate_office_code", "verify_sheet_code",
]
