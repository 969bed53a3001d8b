"""The layout map: where every mark box of a form sits on the printed page.

It is computed from the form definition alone, so the printer and the scanner can never
disagree; `tests/forms/golden/` pins each shipped version's map, because a sheet printed last year is
read with the map of the version it names.  Coordinates are PDF points with the origin at the
top-left corner and y pointing down (the way an image is indexed); boxes are [x, y, w, h].

``survey_link`` is where a sheet printed with ``--survey-link`` carries its second QR code (the
portal's one-time survey link, forms/survey_tokens.py): in the header, clear of the sheet code
and of the scanner's widest crop around it, of every answer box and fiducial, or null when a
form leaves no room there.  The scanner never reads it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.pagesizes import A4

from .definition import Form, FormDefinitionError, Question
from .typography import text_width, wrap

PAGE_WIDTH, PAGE_HEIGHT = A4
MM = 72 / 25.4

FIDUCIAL_SIZE = 34.0        # 12 mm ArUco markers: found even in a 150 dpi scan or a phone photo
FIDUCIAL_INSET = 22.0
FIDUCIAL_IDS = (0, 1, 2, 3)  # top-left, top-right, bottom-right, bottom-left: tells orientation
QR_SIZE = 84.0              # quiet zone included
QR_X, QR_Y = 66.0, 18.0
#: The survey link's QR code: its side (quiet zone included), and its distance from the sheet
#: code's box (more than the 45 pt the scanner's widest crop around the sheet code reaches).
LINK_SIZE = 52.0
LINK_CLEAR = 50.0
LINK_TEXT_WIDTH = 150.0
LINK_TEXT_SIZE = 8.5

MARGIN_X = 40.0
CONTENT_RIGHT = PAGE_WIDTH - MARGIN_X
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
BUBBLE = 16.0               # 5.6 mm: larger than the 5 mm elderly hands need
DIGIT_BUBBLE = 15.0         # 5.3 mm
DIGIT_PITCH_Y = 17.5
DIGIT_PITCH_X = 19.0
ROW_HEIGHT = 23.0
LABEL_SIZE = 11.0
OPTION_SIZE = 10.0
QUESTION_GAP = 7.0
FOOTER_Y = PAGE_HEIGHT - FIDUCIAL_INSET - FIDUCIAL_SIZE / 2 + 4


@dataclass(frozen=True)
class TextItem:
    """A static label in logical (reading) order; `x` is the anchor, `y` the baseline."""

    text: str
    x: float
    y: float
    size: float
    bold: bool = False
    align: str = "right"  # right | left | center


@dataclass
class QuestionLayout:
    id: str
    kind: str
    options: list[tuple[str | int, tuple[float, float, float, float]]] = field(default_factory=list)
    columns: list[list[tuple[str, tuple[float, float, float, float]]]] = field(default_factory=list)
    box: tuple[float, float, float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.kind == "digits":
            out["columns"] = [{"options": [{"value": v, "box": list(b)} for v, b in col]}
                              for col in self.columns]
        elif self.kind == "text":
            out["box"] = list(self.box or ())
        else:
            out["options"] = [{"value": v, "box": list(b)} for v, b in self.options]
        return out


@dataclass
class SheetLayout:
    form: str
    version: int
    fiducials: list[tuple[int, tuple[float, float, float, float]]]
    qr: tuple[float, float, float, float]
    serial_anchor: tuple[float, float]
    questions: list[QuestionLayout]
    texts: list[TextItem]
    frames: list[tuple[float, float, float, float]]  # write-in boxes, comment box outline
    width: float = PAGE_WIDTH
    height: float = PAGE_HEIGHT
    #: The survey link's QR box and the line printed beside it (drawn only on a sheet printed
    #: with a link); None when the form leaves no room for it.
    survey_link: tuple[float, float, float, float] | None = None
    survey_link_texts: list[TextItem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The contract shape of `seda forms layout FORM --json`."""
        return {
            "form": self.form,
            "version": self.version,
            "page": {"width": _r(self.width), "height": _r(self.height), "unit": "pt",
                     "origin": "top-left"},
            "fiducials": [{"id": i, "box": list(b)} for i, b in self.fiducials],
            "qr": {"box": list(self.qr)},
            "questions": [q.to_json() for q in self.questions],
            "survey_link": {"box": list(self.survey_link)} if self.survey_link else None,
        }


def _r(value: float) -> float:
    return round(value, 2)


def _box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (_r(x), _r(y), _r(w), _r(h))


def fiducial_boxes() -> list[tuple[int, tuple[float, float, float, float]]]:
    near, far_x = FIDUCIAL_INSET, PAGE_WIDTH - FIDUCIAL_INSET - FIDUCIAL_SIZE
    far_y = PAGE_HEIGHT - FIDUCIAL_INSET - FIDUCIAL_SIZE
    corners = [(near, near), (far_x, near), (far_x, far_y), (near, far_y)]
    return [(i, _box(x, y, FIDUCIAL_SIZE, FIDUCIAL_SIZE)) for i, (x, y) in zip(FIDUCIAL_IDS, corners)]


def _choice_block(question: Question, y: float, right: float, width: float,
                  texts: list[TextItem]) -> tuple[QuestionLayout, float]:
    """Label line, then option cells laid right to left: circle first, its label to the left."""
    texts.append(TextItem(question.label.fa, right, y + LABEL_SIZE, LABEL_SIZE, bold=True))
    y += LABEL_SIZE + 7
    count = len(question.options)
    per_row = question.columns or count
    cell = width / per_row
    label_room = cell - BUBBLE - 12
    for option in question.options:
        if text_width(option.label.fa, OPTION_SIZE) > label_room:
            per_row = max(1, int(width // (BUBBLE + 16 + text_width(option.label.fa, OPTION_SIZE))))
            cell = width / per_row
            label_room = cell - BUBBLE - 12
    layout = QuestionLayout(id=question.id, kind=question.kind)
    rows = (count + per_row - 1) // per_row
    for index, option in enumerate(question.options):
        row, col = divmod(index, per_row)
        cell_right = right - col * cell
        bx = cell_right - BUBBLE
        by = y + row * ROW_HEIGHT + (ROW_HEIGHT - BUBBLE) / 2
        layout.options.append((option.value, _box(bx, by, BUBBLE, BUBBLE)))
        texts.append(TextItem(option.label.fa, bx - 5, by + BUBBLE / 2 + OPTION_SIZE * 0.35,
                              OPTION_SIZE))
    return layout, y + rows * ROW_HEIGHT + QUESTION_GAP


def _digits_block(question: Question, y: float, right: float, texts: list[TextItem],
                  frames: list) -> tuple[QuestionLayout, float, float]:
    """A grid of one column per digit, written left to right as numbers are, row labels at right.

    Returns the layout, its bottom y and its left x.
    """
    label_w = 12.0
    grid_w = question.digits * DIGIT_PITCH_X
    left = right - label_w - grid_w
    texts.append(TextItem(question.label.fa, right, y + LABEL_SIZE, LABEL_SIZE, bold=True))
    top = y + LABEL_SIZE + 7
    bubbles_top = top + DIGIT_BUBBLE + 6  # a write-in square above each column
    layout = QuestionLayout(id=question.id, kind="digits")
    for c in range(question.digits):
        cx = left + c * DIGIT_PITCH_X + (DIGIT_PITCH_X - DIGIT_BUBBLE) / 2
        frames.append(_box(cx - 1, top, DIGIT_BUBBLE + 2, DIGIT_BUBBLE + 2))
        column = []
        for digit in range(10):
            by = bubbles_top + digit * DIGIT_PITCH_Y
            column.append((str(digit), _box(cx, by, DIGIT_BUBBLE, DIGIT_BUBBLE)))
        layout.columns.append(column)
    for digit in range(10):
        by = bubbles_top + digit * DIGIT_PITCH_Y
        texts.append(TextItem(str(digit), right - label_w / 2, by + DIGIT_BUBBLE / 2 + 3.2, 9,
                              align="center"))
    return layout, bubbles_top + 10 * DIGIT_PITCH_Y + QUESTION_GAP, left


def _text_extent(item: TextItem) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a static label, in layout points."""
    width = text_width(item.text, item.size)
    left = {"right": item.x - width, "left": item.x}.get(item.align, item.x - width / 2)
    return left, item.y - item.size, left + width, item.y + item.size * 0.35


def _survey_link_place(texts: list[TextItem], band_top: float
                       ) -> tuple[tuple[float, float, float, float] | None, list[TextItem]]:
    """The survey link's box in the header (right of the sheet code, under the title and
    introduction lines it would touch, above the instructions band) and its line of text to
    the right of it, read first in right-to-left order; (None, []) when there is no room."""
    left = QR_X + QR_SIZE + LINK_CLEAR
    right = left + LINK_SIZE + 8 + LINK_TEXT_WIDTH
    top = QR_Y
    for item in texts:
        x0, _, x1, bottom = _text_extent(item)
        if x0 < right and x1 > left:
            top = max(top, bottom + 1)
    if band_top - 1 - top < LINK_SIZE:
        return None, []
    y = top + (band_top - 1 - top - LINK_SIZE) / 2
    box = _box(left, y, LINK_SIZE, LINK_SIZE)
    lines = wrap(_printed("sheet_survey_link"), LINK_TEXT_WIDTH, LINK_TEXT_SIZE)
    first = y + LINK_SIZE / 2 - (len(lines) - 1) * (LINK_TEXT_SIZE + 4) / 2 + LINK_TEXT_SIZE * 0.35
    # right-aligned (Persian) and as wide as its longest line, so it ends beside the code
    edge = left + LINK_SIZE + 8 + max(text_width(line, LINK_TEXT_SIZE) for line in lines)
    items = [TextItem(line, edge, first + n * (LINK_TEXT_SIZE + 4), LINK_TEXT_SIZE)
             for n, line in enumerate(lines)]
    return box, items


def _printed(key: str) -> str:
    """A sentence of the sheet (forms/translations): the sheet is printed in Persian."""
    from .messages import messages_for
    return messages_for("forms").text(key, "fa")


def build_layout(form: Form) -> SheetLayout:
    """Place every question of `form` on one A4 page, or say why it does not fit."""
    texts: list[TextItem] = []
    frames: list = []
    title_right = PAGE_WIDTH - 66
    texts.append(TextItem(form.title.fa, title_right, 46, 17, bold=True))
    intro_width = title_right - (QR_X + QR_SIZE + 16)
    y = 66.0
    for line in wrap(form.intro.fa, intro_width, 9.5):
        texts.append(TextItem(line, title_right, y, 9.5))
        y += 14
    y = max(y, QR_Y + QR_SIZE + 18) + 4
    link_box, link_texts = _survey_link_place(texts, y)
    texts.append(TextItem(form.instructions.fa, CONTENT_RIGHT - 8, y + 15, 10.5, bold=True))
    frames.append(_box(MARGIN_X, y, CONTENT_WIDTH, 24))
    y += 24 + 12

    questions: list[QuestionLayout] = []
    band = [q for i, q in enumerate(form.questions)
            if any(p.kind in ("digits", "text") for p in form.questions[: i + 1])]
    flow = [q for q in form.questions if q not in band]
    for question in flow:
        layout, y = _choice_block(question, y, CONTENT_RIGHT, CONTENT_WIDTH, texts)
        questions.append(layout)

    # The band: digit grids side by side from the right, choices stacked under them, and the
    # comment box filling the width that is left, as tall as the band.
    band_top, right, bottom = y, CONTENT_RIGHT, y
    for question in (q for q in band if q.kind == "digits"):
        layout, grid_bottom, left = _digits_block(question, band_top, right, texts, frames)
        questions.append(layout)
        bottom = max(bottom, grid_bottom)
        right = left - 14
    grids_left = right + 14
    stacked_y = bottom
    for question in (q for q in band if q.kind in ("single", "multi")):
        layout, stacked_y = _choice_block(question, stacked_y, CONTENT_RIGHT,
                                          CONTENT_RIGHT - grids_left, texts)
        questions.append(layout)
    bottom = max(bottom, stacked_y)
    text_questions = [q for q in band if q.kind == "text"]
    if text_questions:
        slot_w = (right - MARGIN_X) / len(text_questions)
        for n, question in enumerate(text_questions):
            slot_right = right - n * slot_w
            texts.append(TextItem(question.label.fa, slot_right, band_top + LABEL_SIZE,
                                  LABEL_SIZE, bold=True))
            box_top = band_top + LABEL_SIZE + 7
            box = _box(slot_right - slot_w + 6, box_top, slot_w - 6, bottom - QUESTION_GAP - box_top)
            questions.append(QuestionLayout(id=question.id, kind="text", box=box))
    limit = PAGE_HEIGHT - FIDUCIAL_INSET - FIDUCIAL_SIZE - 6
    if bottom > limit:
        raise FormDefinitionError("form_problem_too_tall", source=form.source or form.id, where="questions",
                                  need=round(bottom), room=round(limit))
    order = {q.id: i for i, q in enumerate(form.questions)}
    questions.sort(key=lambda q: order[q.id])
    texts.append(TextItem(_printed("sheet_thanks"), PAGE_WIDTH / 2, FOOTER_Y, 9, align="center"))
    return SheetLayout(
        form=form.id,
        version=form.version,
        fiducials=fiducial_boxes(),
        qr=_box(QR_X, QR_Y, QR_SIZE, QR_SIZE),
        serial_anchor=(QR_X + QR_SIZE / 2, QR_Y + QR_SIZE + 9),
        questions=questions,
        texts=texts,
        frames=frames,
        survey_link=link_box,
        survey_link_texts=link_texts,
    )
