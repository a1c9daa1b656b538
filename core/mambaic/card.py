"""The model card: what a weights file says about how it was made and how it measured.

A card is written by the training loop (`mambaic.train.loop.model_card`), extended by tools over
the model's life (scripts/export_weights.py notes which shipped file a stage became,
scripts/card_add_eval.py adds RD tables) and read by the library, the evaluation reports and the
app. It lives in two places: inside the safetensors metadata (part of the file's hash, so never
edited there) and as model_card.json beside the shipped weights.

Every field is optional, because a weights file saved without a card has an empty one; a field
that is None is absent from the JSON (a JSON null reads as absent too). A card can come from a
weights file someone handed over, so `from_dict` checks every value against its field's type and
every text with `mambaic.text.text_problem`, and names the bad key. Keys it does not know (a
stage's one-off note, a field a later version adds) are kept in `extra`, and keys keep the order
they were read in: a tool that reads a card and writes it back changes only what it set, and a
weights file exported again from the same card gets the same bytes.
"""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from mambaic.atomic import atomic_write
from mambaic.errors import MambaICError
from mambaic.text import named, text_problem

#: The bookkeeping fields every record has besides its JSON keys.
_BOOKKEEPING = frozenset({"extra", "key_order"})

R = TypeVar("R", bound="_Record")


class CardError(MambaICError, ValueError):
    """A model card value has the wrong type or is not acceptable text; `key` is its path in the
    card (``training.steps``, ``earlier_training[2].lr``)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"model card: {named(key)} {problem}")
        self.key, self.problem = key, problem


@dataclass(frozen=True)
class _Record:
    """A JSON object with typed fields, read and checked by `from_dict`, written by `to_dict`.

    A field's JSON key is its name unless its metadata names another (``{"key": ...}``).
    """

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)
    """Keys this version does not know, with their JSON values as read."""
    key_order: tuple[str, ...] = field(default=(), kw_only=True, compare=False, repr=False)
    """The keys in the order they were read; `to_dict` writes them in that order first."""

    @classmethod
    def from_dict(cls: type[R], data: Any, path: str = "") -> R:
        """The record of a parsed JSON object; raises `CardError` naming the first bad key.

        `path` is where the object sits in the card, for the messages.
        """
        if not isinstance(data, Mapping):
            raise CardError(path or "card", f"must be an object, not {_kind(data)}")
        known = {_key(f): f for f in _fields(cls)}
        hints = _hints(cls)
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            where = _child(path, _checked_key(key, path))
            f = known.get(key)
            if f is None:
                extra[key] = _checked_json(value, where)
            elif value is not None:
                values[f.name] = _parse(value, hints[f.name], where)
        for key, f in known.items():
            if f.name not in values and f.default is MISSING and f.default_factory is MISSING:
                raise CardError(_child(path, key), "is required")
        return cls(**values, extra=extra, key_order=tuple(data))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the keys read first, in their order, then fields set since (in
        declaration order), then unknown keys added since. None fields are left out."""
        present = {_key(f): _plain(getattr(self, f.name)) for f in _fields(type(self))
                   if getattr(self, f.name) is not None}
        present.update((key, _plain(value)) for key, value in self.extra.items())
        ordered = {key: present[key] for key in self.key_order if key in present}
        return {**ordered, **present}


@dataclass(frozen=True)
class VariableRate(_Record):
    """The quality scale a variable-rate model codes at, and the λ of its anchor qualities."""

    quality_range: tuple[float, float] | None = None
    lambdas: tuple[float, ...] | None = None


@dataclass(frozen=True)
class TrainingStage(_Record):
    """One launch-to-export training run (`training`, or one of `earlier_training`).

    Fields in the order the training loop writes them, then the notes later tools add.
    """

    steps: int
    wall_seconds: float | None = None
    batch_size: int | None = None
    ranks: int | None = None
    patch: int | None = None
    lr: float | None = None
    quality_sampling: str | None = None
    lr_schedule: str | None = None
    data: str | None = None
    device: str | None = None
    hardware: str | None = None
    weights: str | None = None
    lambdas: tuple[float, ...] | None = None
    ended_at_sha256: str | None = None
    """SHA-256 of the weights this stage ended at (an earlier stage of a restarted run)."""
    shipped_as: str | None = None
    widened: str | None = None


@dataclass(frozen=True)
class ValidationPoint(_Record):
    """One quality's mean over the validation crops, as the run's val.csv holds it (text, so
    the card shows exactly the logged digits)."""

    step: str | int
    quality: str | float
    payload_bpp: str | float
    psnr: str | float


@dataclass(frozen=True)
class RatePoint(_Record):
    """One quality of an evaluation, averaged over its images."""

    quality: float
    bpp: float
    psnr_db: float | None = None
    ms_ssim: float | None = None


@dataclass(frozen=True)
class RDEvaluation(_Record):
    """A `mambaic eval` run's RD table (scripts/card_add_eval.py)."""

    source: str | None = None
    settings: str | None = None
    dataset: str | None = None
    images: int | None = None
    date: str | None = None
    machine: str | None = None
    points: tuple[RatePoint, ...] | None = None
    bd_rate_pct_psnr: dict[str, float | None] | None = None
    """Per anchor codec; None where the curves share no PSNR range."""
    bd_rate_note: str | None = None


@dataclass(frozen=True)
class ModelCard(_Record):
    """The whole card. `to_dict` of the shipped model_card.json is that file's JSON, key for key."""

    model: str | None = None
    parameters: int | None = None
    variable_rate: VariableRate | None = None
    chroma_filter: bool | None = None
    training: TrainingStage | None = None
    """The stage that produced these weights."""
    earlier_training: tuple[TrainingStage, ...] | None = None
    """The stages before it, oldest first (a run started from `--init-weights`)."""
    total_steps: int | None = None
    validation: tuple[ValidationPoint, ...] | None = field(
        default=None, metadata={"key": "validation_payload_bpp_psnr"})
    sha256: str | None = None
    """Of the weights file this card describes (model_card.json only: a file cannot hold its own hash)."""
    rd_eval: RDEvaluation | None = None
    rd_eval_texture: RDEvaluation | None = None

    @property
    def stages(self) -> tuple[TrainingStage, ...]:
        """Every recorded training stage, oldest first, the last one (`training`) included."""
        return (*(self.earlier_training or ()), *((self.training,) if self.training else ()))

    @property
    def training_steps(self) -> int | None:
        """All optimisation steps behind the weights, earlier stages included (a run restarted
        with --init-weights records them), or None when the card has no training record."""
        if self.total_steps is not None:
            return self.total_steps
        return self.training.steps if self.training else None

    def to_json(self) -> str:
        """The card as model_card.json holds it (indented, one trailing newline)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write model_card.json atomically (readers never see half a card)."""
        return atomic_write(path, self.to_json().encode(), overwrite=True)

    @classmethod
    def read(cls, path: str | Path) -> ModelCard:
        """A model_card.json file; `CardError` (or `ValueError` for bad JSON) when it is not one."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _key(f: Field) -> str:
    return f.metadata.get("key", f.name)


@functools.cache
def _fields(cls: type) -> tuple[Field, ...]:
    return tuple(f for f in fields(cls) if f.name not in _BOOKKEEPING)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    """What a JSON value is, for messages (never the value itself: it may be long or hostile)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


_EXPECTED = {bool: "true/false", int: "an integer", float: "a number", str: "text"}


def _describe(hint: Any) -> str:
    if hint in _EXPECTED:
        return _EXPECTED[hint]
    return "a list" if get_origin(hint) is tuple else "an object"


def _fits(value: Any, hint: Any) -> bool:
    """Whether `value` has the JSON kind `hint` asks for (ints count as numbers, bools as neither)."""
    if hint is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if hint is int:
        return isinstance(value, int)
    if hint is float:
        return isinstance(value, (int, float))
    if hint is str:
        return isinstance(value, str)
    if get_origin(hint) is tuple:
        return isinstance(value, (list, tuple))
    return isinstance(value, Mapping)  # dict[str, ...] or a record


def _parse(value: Any, hint: Any, where: str) -> Any:
    """`value` checked against `hint` and converted: lists to tuples, objects to records.

    Numbers are kept as read (an int in a float field stays an int), so the JSON written back
    is the JSON read.
    """
    if get_origin(hint) in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if value is None and len(options) < len(get_args(hint)):
            return None
        for option in options:
            if _fits(value, option):
                return _parse(value, option, where)
        raise CardError(where, f"must be {' or '.join(_describe(o) for o in options)}, not {_kind(value)}")
    if not _fits(value, hint):
        raise CardError(where, f"must be {_describe(hint)}, not {_kind(value)}")
    if hint is str:
        _check_text(value, where, multiline=True)
    if hint in _EXPECTED:
        return value
    if get_origin(hint) is tuple:
        args = get_args(hint)
        if args[-1] is Ellipsis:
            args = (args[0],) * len(value)
        elif len(args) != len(value):
            raise CardError(where, f"must hold {len(args)} values, not {len(value)}")
        return tuple(_parse(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if get_origin(hint) is dict:
        item_hint = get_args(hint)[1]
        return {_checked_key(k, where): _parse(v, item_hint, _child(where, str(k))) for k, v in value.items()}
    return hint.from_dict(value, where)


def _checked_json(value: Any, where: str) -> Any:
    """An unknown key's value, kept as is once it is plain JSON whose texts are acceptable."""
    if isinstance(value, str):
        _check_text(value, where, multiline=True)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _checked_json(item, f"{where}[{i}]")
    elif isinstance(value, Mapping):
        for k, item in value.items():
            _checked_json(item, _child(where, _checked_key(k, where)))
    elif value is not None and not isinstance(value, (bool, int, float)):
        raise CardError(where, f"must be a JSON value, not {_kind(value)}")
    return value


def _checked_key(key: Any, where: str) -> str:
    if not isinstance(key, str):
        raise CardError(where or "card", f"has a key that is {_kind(key)}, not text")
    _check_text(key, _child(where, key), multiline=False)
    return key


def _check_text(text: str, where: str, multiline: bool) -> None:
    problem = text_problem(text, multiline=multiline)
    if problem:
        raise CardError(where, problem)


def _plain(value: Any) -> Any:
    """A field's value as JSON data: records as objects, tuples as lists, containers copied."""
    if isinstance(value, _Record):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value
