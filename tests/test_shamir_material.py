"""Threshold material on the wire: what the client writes is what a node reads, and a
node refuses any stream that is not exactly that, naming what is off."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cme.incoming import MaterialError
from cme.shamir import deal_shamir, share_of
from cme.shamir_material import ShamirStream, shamir_buffers, shamir_from_bytes, shamir_to_bytes
from gpu_msm.constants import FR_MODULUS
from prover.limbs import ints_to_limbs

N, T, M = 5, 2, 37


@pytest.fixture
def materials(test_seed):
    rng = random.Random(test_seed)
    w = ints_to_limbs([rng.randrange(FR_MODULUS) for _ in range(M)])
    return deal_shamir(w, N, T, engine="cpu", rng=rng)


def _parse(raw, index, **kw):
    return shamir_from_bytes(raw, **{"index": index, "n_parties": N, "threshold": T, "n_vars": M, **kw})


def test_round_trip_whole_and_in_random_pieces(materials, test_seed):
    rng = random.Random(test_seed)
    for m in materials:
        raw = shamir_to_bytes(m)
        assert len(raw) == (52 if m.index < T else 20 + 32 * M)
        assert np.array_equal(share_of(_parse(raw, m.index)), share_of(m))
        stream = ShamirStream(index=m.index, n_parties=N, threshold=T, n_vars=M)
        pos = 0
        while pos < len(raw):
            assert stream.material is None
            step = rng.randint(1, 200)
            stream.feed(memoryview(raw)[pos:pos + step])
            pos += step
        stream.close()
        assert np.array_equal(share_of(stream.material), share_of(m))
        assert b"".join(bytes(b) for b in shamir_buffers(m)) == raw


def test_malformed_material_is_refused_naming_what_is_off(materials):
    raw = shamir_to_bytes(materials[3])
    with pytest.raises(MaterialError, match="bad header"):
        _parse(b"CMEM" + raw[4:], 3)
    with pytest.raises(MaterialError, match="is for party 3 of 5, threshold 2, nVars 37; the manifest and "
                                            "circuit say party 4 of 5"):
        _parse(raw, 4)
    with pytest.raises(MaterialError, match=f"is {len(raw) - 1} bytes, expected {len(raw)}"):
        _parse(raw[:-1], 3)
    with pytest.raises(MaterialError, match="more than the announced"):
        ShamirStream(index=3, n_parties=N, threshold=T, n_vars=M).feed(raw + b"\0")
    bad = bytearray(raw)
    bad[20 + 32 * 5:20 + 32 * 6] = FR_MODULUS.to_bytes(32, "little")
    with pytest.raises(MaterialError, match="element 5 is not below the field modulus"):
        _parse(bytes(bad), 3)
    stream = ShamirStream(index=3, n_parties=N, threshold=T, n_vars=M)
    stream.feed(raw[:100])
    with pytest.raises(MaterialError, match="is 100 bytes"):
        stream.close()
