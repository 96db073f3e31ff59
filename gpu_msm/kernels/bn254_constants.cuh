// BN254 field constants: 8 little-endian 32-bit limbs, Montgomery radix R = 2^256.
// Checked against gpu_msm/constants.py by tests/test_gpu_msm_cuda.py (no GPU needed).
#pragma once

// q, the base field modulus (Fq)
__constant__ unsigned int FQ_MOD[8] = {0xd87cfd47, 0x3c208c16, 0x6871ca8d, 0x97816a91, 0x8181585d, 0xb85045b6, 0xe131a029, 0x30644e72};
// R^2 mod q
__constant__ unsigned int FQ_R2[8] = {0x538afa89, 0xf32cfc5b, 0xd44501fb, 0xb5e71911, 0x0a417ff6, 0x47ab1eff, 0xcab8351f, 0x06d89f71};
// R mod q (one, Montgomery form)
__constant__ unsigned int FQ_ONE[8] = {0xc58f0d9d, 0xd35d438d, 0xf5c70b3d, 0x0a78eb28, 0x7879462c, 0x666ea36f, 0x9a07df2f, 0x0e0a77c1};
// q - 2 (Fermat inversion exponent)
__constant__ unsigned int FQ_MOD_M2[8] = {0xd87cfd45, 0x3c208c16, 0x6871ca8d, 0x97816a91, 0x8181585d, 0xb85045b6, 0xe131a029, 0x30644e72};
// -q^-1 mod 2^32
#define FQ_INV32 0xe4866389u

// r, the scalar field modulus (Fr, the group order)
__constant__ unsigned int FR_MOD[8] = {0xf0000001, 0x43e1f593, 0x79b97091, 0x2833e848, 0x8181585d, 0xb85045b6, 0xe131a029, 0x30644e72};
// R^2 mod r
__constant__ unsigned int FR_R2[8] = {0xae216da7, 0x1bb8e645, 0xe35c59e3, 0x53fe3ab1, 0x53bb8085, 0x8c49833d, 0x7f4e44a5, 0x0216d0b1};
// R mod r (one, Montgomery form)
__constant__ unsigned int FR_ONE[8] = {0x4ffffffb, 0xac96341c, 0x9f60cd29, 0x36fc7695, 0x7879462e, 0x666ea36f, 0x9a07df2f, 0x0e0a77c1};
// r - 2 (Fermat inversion exponent)
__constant__ unsigned int FR_MOD_M2[8] = {0xefffffff, 0x43e1f593, 0x79b97091, 0x2833e848, 0x8181585d, 0xb85045b6, 0xe131a029, 0x30644e72};
// -r^-1 mod 2^32
#define FR_INV32 0xefffffffu
