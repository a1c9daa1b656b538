"""The model card (`mambaic.card.ModelCard`) as readable HTML.

Pure Python, no Qt, so it can be tested on its own. The card was checked when the weights were
loaded; what it lacks is left out. Its training stages (`ModelCard.stages`) become one table; every
other entry, known or not (a tool may add keys this version has no field for), is shown by its
JSON shape: a table of records, an evaluation section, or a plain key/value listing.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from mambaic.card import ModelCard

#: Training stage fields shown as columns (short values), in this order, with their headings.
STAGE_COLUMNS = {"steps": "steps", "wall_seconds": "wall time", "batch_size": "batch",
                 "ranks": "ranks", "patch": "patch", "lr": "lr", "device": "device"}

#: The card's keys drawn by `_stages_table` from `ModelCard.stages`, not listed as entries.
_STAGE_KEYS = ("training", "earlier_training")

#: Headings for keys the card writers use whose plain spelling reads badly.
LABELS = {"sha256": "SHA-256", "rd_eval": "Rate–distortion, evaluation photos",
          "rd_eval_texture": "Rate–distortion, texture photos",
          "validation_payload_bpp_psnr": "Validation during training",
          "bd_rate_pct_psnr": "BD-rate in % at equal PSNR (negative: fewer bits than)",
          "psnr_db": "PSNR (dB)", "psnr": "PSNR", "ms_ssim": "MS-SSIM", "bpp": "bpp",
          "payload_bpp": "payload bpp"}


def _e(value: Any) -> str:
    return html.escape(str(value))


def _title(key: str) -> str:
    """`total_steps` -> "Total steps": the card's keys are its only headings."""
    return LABELS.get(key, key.replace("_", " ").strip().capitalize())


def _value(value: Any) -> str:
    """A scalar, list or small dict as one line of escaped text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _e(f"{value:g}")
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{_e(_title(str(k)))}: {_value(v)}" for k, v in value.items())
    return _e(value)


def _duration(seconds: float) -> str:
    """A stage's wall time (`TrainingStage.wall_seconds`, a number once the card is read)."""
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _fields(mapping: Mapping, skip: Iterable[str] = ()) -> str:
    skip = set(skip)
    rows = [f"<tr><th align='left' valign='top'>{_e(_title(str(k)))}</th><td>{_value(v)}</td></tr>"
            for k, v in mapping.items() if k not in skip]
    return f"<table cellspacing='0' cellpadding='3'>{''.join(rows)}</table>" if rows else ""


def _records(rows: list[Mapping]) -> str:
    """A list of flat dicts (evaluation points) as a table with the union of their keys."""
    columns: list[str] = []
    for row in rows:
        columns += [str(k) for k in row if str(k) not in columns]
    head = "".join(f"<th>{_e(_title(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td align='right'>{_value(row.get(c, ''))}</td>"
                                    for c in columns) + "</tr>" for row in rows)
    return (f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{body}</table>"
            if columns else "")


def _stages_table(stages: list[Mapping]) -> str:
    columns = [k for k in STAGE_COLUMNS if any(k in s for s in stages)]
    head = "<th>#</th>" + "".join(f"<th>{STAGE_COLUMNS[c]}</th>" for c in columns) + \
        "<th align='left'>details</th>"
    rows = []
    for number, stage in enumerate(stages, 1):
        cells = [f"<td align='right'>{number}</td>"]
        for column in columns:
            value = stage.get(column)
            text = "" if value is None else (_duration(value) if column == "wall_seconds"
                                             else _value(value))
            cells.append(f"<td align='right'>{text}</td>")
        details = "<br>".join(f"<i>{_e(_title(str(k)))}:</i> {_value(v)}"
                              for k, v in stage.items() if k not in STAGE_COLUMNS)
        cells.append(f"<td><small>{details}</small></td>")
        rows.append("<tr valign='top'>" + "".join(cells) + "</tr>")
    return (f"<table border='1' cellspacing='0' cellpadding='3' width='100%'><tr>{head}</tr>"
            f"{''.join(rows)}</table>")


def _evaluation(key: str, value: Any) -> str | None:
    """A section for an evaluation record, or None when `value` does not look like one."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return f"<h4>{_e(_title(key))}</h4>{_records(value)}"
    if not isinstance(value, Mapping):
        return None
    tables = {k: v for k, v in value.items()
              if isinstance(v, list) and v and all(isinstance(p, Mapping) for p in v)}
    ratios = {k: v for k, v in value.items() if isinstance(v, Mapping)}
    if not tables and not ratios:
        return None
    parts = [f"<h4>{_e(_title(key))}</h4>", _fields(value, skip=[*tables, *ratios])]
    parts += [_records(rows) for rows in tables.values()]
    for name, mapping in ratios.items():
        parts.append(f"<p><b>{_e(_title(name))}</b></p>"
                     + _records([{"against": k, "value": v} for k, v in mapping.items()]))
    return "".join(parts)


def card_html(card: ModelCard | None) -> str:
    """Summary fields, then the training stages as a table, then each evaluation as tables."""
    entries = card.to_dict() if card is not None else {}
    if not entries:
        return "<p><i>These weights carry no model card.</i></p>"
    summary: dict = {}
    evaluations: list[str] = []
    for key, value in entries.items():
        if key in _STAGE_KEYS:
            continue
        section = _evaluation(str(key), value)
        if section is None:
            summary[key] = value
        else:
            evaluations.append(section)
    parts = [_fields(summary)]
    stages = [stage.to_dict() for stage in card.stages]
    if stages:
        parts.append(f"<h4>Training ({len(stages)} stage{'s' if len(stages) > 1 else ''})</h4>")
        parts.append(_stages_table(stages))
    if evaluations:
        parts.append("<h3>Evaluation</h3>" + "".join(evaluations))
    return "".join(parts)
