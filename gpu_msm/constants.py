"""BN254 constants for the engine (numpy and CUDA need them without ``prover``).

``prover.bn254`` re-exports the moduli from here: gpu_msm sits at the bottom of the
dependency chain and must import nothing of ours.
"""

# base field modulus q
FQ_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583
# scalar field modulus r (the group order)
FR_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
# Montgomery radix R = 2^256
MONT_BITS = 256
SCALAR_BITS = 254

# R^2 mod q and mod r, and −m^{-1} mod 2^64, for Montgomery multiplication on 64-bit limbs
FQ_R2 = pow(1 << MONT_BITS, 2, FQ_MODULUS)
FR_R2 = pow(1 << MONT_BITS, 2, FR_MODULUS)
FQ_INV64 = (-pow(FQ_MODULUS, -1, 1 << 64)) % (1 << 64)
FR_INV64 = (-pow(FR_MODULUS, -1, 1 << 64)) % (1 << 64)

# G1: y^2 = x^3 + 3; G2 (twist over Fq2 = Fq[u]/(u^2 + 1)): y^2 = x^3 + 3/(9 + u)
G1_B = 3
G2_B = (19485874751759354771024239261021720505790618469301721065564631296452457478373,
        266929791119991161246907387137283842545076965332900288569378510910307636690)
# the generator of the 2-adic subgroup snarkjs uses: ω_{2^k} = 5^((r−1)/2^k)
FR_GENERATOR = 5
FR_TWO_ADICITY = 28

assert pow(FR_GENERATOR, FR_MODULUS - 1, FR_MODULUS) == 1
assert (FR_MODULUS - 1) % (1 << FR_TWO_ADICITY) == 0
assert FQ_MODULUS * FQ_INV64 % (1 << 64) == (1 << 64) - 1
