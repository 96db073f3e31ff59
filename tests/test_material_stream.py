"""A party's material parsed piece by piece (cme.material.MaterialStream): the same as
parsing it whole, usable as soon as its small fields are in, and failing loudly."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from cme.dealing import CORRECTED, deal
from cme.incoming import IncomingVector, MaterialError
from cme.material import MaterialStream, material_from_bytes, material_size, material_to_bytes
from gpu_msm.constants import FR_MODULUS
from prover.limbs import ints_to_limbs

N_VARS, DOMAIN = 37, 64


def _dealt(n_parties, seed):
    rng = random.Random(seed)
    w = [rng.randrange(FR_MODULUS) for _ in range(N_VARS)]
    return deal(w, n_parties, DOMAIN, engine="cpu")


def _stream(p):
    return MaterialStream(index=p.index, n_parties=p.n_parties, n_vars=p.n_vars, domain_size=p.domain_size)


def _pieces(raw, rng):
    pos = 0
    while pos < len(raw):
        k = rng.choice([1, 7, 31, 32, 33, 500, 4096, len(raw)])
        yield memoryview(raw)[pos:pos + k]
        pos += k


def _taken(c, key):
    v = getattr(c, key)
    return v.take() if isinstance(v, IncomingVector) else v


@pytest.mark.parametrize("n_parties", [2, 3, 5])
def test_pieces_parse_as_the_whole(n_parties, test_seed):
    rng = random.Random(test_seed)
    for p in _dealt(n_parties, test_seed):
        raw = material_to_bytes(p)
        assert len(raw) == material_size(p.index, n_parties, N_VARS, DOMAIN)
        whole = material_from_bytes(raw, index=p.index, n_parties=n_parties, n_vars=N_VARS, domain_size=DOMAIN)
        s = _stream(p)
        for piece in _pieces(raw, rng):
            s.feed(piece)
        s.close()
        for got in (whole, s.material):
            assert got.seed == p.seed and got.index == p.index
            if p.corrections is None:
                assert got.corrections is None
                continue
            for key in CORRECTED:
                want = getattr(p.corrections, key)
                if want is None:
                    assert getattr(got.corrections, key) is None
                else:
                    assert (_taken(got.corrections, key) == want).all(), key


def test_the_material_is_there_before_its_vectors():
    """After the header and seed, a job can start; a vector is waited for until its last
    byte lands, then handed over whole."""
    p = _dealt(3, 1)[0]  # party 0: the witness correction
    raw = material_to_bytes(p)
    s = _stream(p)
    prefix = len(raw) - 32 * N_VARS
    s.feed(raw[:prefix - 1])
    assert s.material is None
    s.feed(raw[prefix - 1:prefix])
    assert s.material is not None and s.material.seed == p.seed
    pending = s.material.corrections.w
    assert isinstance(pending, IncomingVector)
    got = []
    waiter = threading.Thread(target=lambda: got.append(pending.take()))
    waiter.start()
    s.feed(raw[prefix:-1])
    waiter.join(0.2)
    assert waiter.is_alive() and not got, "handed over before its last byte"
    s.feed(raw[-1:])
    waiter.join(5)
    s.close()
    assert (got[0] == p.corrections.w).all()


def test_a_stream_that_breaks_off_wakes_the_waiter_with_the_reason():
    p = _dealt(3, 2)[1]  # party 1: the z1 correction only
    raw = material_to_bytes(p)
    s = _stream(p)
    s.feed(raw[:len(raw) // 2])
    pending = s.material.corrections.z1
    errors = []

    def wait():
        try:
            pending.take()
        except MaterialError as e:
            errors.append(str(e))
    waiter = threading.Thread(target=wait)
    waiter.start()
    with pytest.raises(MaterialError, match=f"is {len(raw) // 2} bytes, expected {len(raw)}"):
        s.close()
    s.fail("the client's material stream broke off")
    waiter.join(5)
    assert errors == ["the z1 correction never arrived: the client's material stream broke off"]


def test_a_whole_vector_survives_a_later_failure():
    p = _dealt(3, 3)[0]
    raw = material_to_bytes(p)
    s = _stream(p)
    s.feed(raw)
    s.fail("late")
    assert (s.material.corrections.w.take() == p.corrections.w).all()


def test_malformed_material_is_refused_naming_what():
    p = _dealt(3, 4)[2]  # party 2: z2
    raw = bytearray(material_to_bytes(p))
    over = _stream(p)
    with pytest.raises(MaterialError, match=f"more than the announced {len(raw)} bytes"):
        over.feed(bytes(raw) + b"\0")
    bad = bytearray(raw)
    bad[-32:] = ints_to_limbs([FR_MODULUS]).tobytes()  # the last value of z2 equals r
    s = _stream(p)
    with pytest.raises(MaterialError, match="a value of z2 is not below r"):
        s.feed(bytes(bad))
    wrong_party = MaterialStream(index=1, n_parties=3, n_vars=N_VARS, domain_size=DOMAIN)
    with pytest.raises(MaterialError, match="for party 2 of 3"):
        wrong_party.feed(bytes(raw[:60]))
    header = bytearray(raw)
    header[:4] = b"NOPE"
    with pytest.raises(MaterialError, match="bad header"):
        _stream(p).feed(bytes(header))


def test_incoming_vector_hands_over_once():
    v = IncomingVector("w", 2)
    v.write(np.arange(8, dtype=np.uint64).tobytes())
    assert v.take().tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(RuntimeError, match="already taken"):
        v.take()
