"""`mambaic._compressai`: a CompressAI without the private calls we wrap is refused at import,
naming what is missing and the versions we support, not deep inside an encode."""

from __future__ import annotations

import pytest

from mambaic import _compressai
from mambaic._compressai import EntropyBottleneck, GaussianConditional


@pytest.mark.parametrize("owner, name", [(EntropyBottleneck, "_get_medians"),
                                         (GaussianConditional, "_likelihood")])
def test_a_compressai_lacking_a_private_call_is_refused(monkeypatch, owner, name):
    _compressai._check_private_api()  # the installed one has them all
    monkeypatch.delattr(owner, name)
    with pytest.raises(ImportError, match=rf"{owner.__name__}\.{name}") as raised:
        _compressai._check_private_api()
    assert _compressai.SUPPORTED_VERSIONS in str(raised.value)
