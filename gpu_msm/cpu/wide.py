"""64-bit limb primitives that Python's numba lacks: 64×64→128 products and carries.

numba has no 128-bit integer type, but LLVM does: each primitive widens to i128,
operates, and splits the result, which LLVM lowers to one ``mul``/``adc``/``sbb``.
These are emitted inline at the call site, so they cost what the instructions cost.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_I64 = ir.IntType(64)
_I128 = ir.IntType(128)
_PAIR = types.UniTuple(types.uint64, 2)


def _split(context, builder, wide):
    lo = builder.trunc(wide, _I64)
    hi = builder.trunc(builder.lshr(wide, ir.Constant(_I128, 64)), _I64)
    return context.make_tuple(builder, _PAIR, (lo, hi))


@intrinsic
def mac(typingctx, a, b, c, d):
    """a·b + c + d as (lo, hi); never overflows 128 bits."""
    sig = _PAIR(types.uint64, types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        a, b, c, d = (builder.zext(x, _I128) for x in args)
        return _split(context, builder, builder.add(builder.add(builder.mul(a, b), c), d))
    return sig, codegen


@intrinsic
def adc(typingctx, a, b, carry):
    """a + b + carry as (sum, carry out), carry in {0, 1}."""
    sig = _PAIR(types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        a, b, c = (builder.zext(x, _I128) for x in args)
        return _split(context, builder, builder.add(builder.add(a, b), c))
    return sig, codegen


@intrinsic
def sbb(typingctx, a, b, borrow):
    """a − b − borrow as (difference, borrow out), borrow in {0, 1}."""
    sig = _PAIR(types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        a, b, c = (builder.zext(x, _I128) for x in args)
        wide = builder.sub(builder.sub(a, b), c)
        diff = builder.trunc(wide, _I64)
        out = builder.trunc(builder.lshr(wide, ir.Constant(_I128, 127)), _I64)
        return context.make_tuple(builder, _PAIR, (diff, out))
    return sig, codegen
