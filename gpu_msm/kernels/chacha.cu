// ChaCha20 keystream (RFC 8439 block function, 32-bit block counter) on the device: the
// seed expansion of cme.prg without the host.  Block b of the stream keyed by `key` (8
// little-endian words) with the 96-bit nonce `nonce` (3 words) and counter start `ctr0`
// goes to out[16 b .. 16 b + 15].  The host version (the `cryptography` package) is the
// reference; tests compare the two byte for byte.
typedef unsigned int u32;
typedef unsigned long long u64;

__device__ __forceinline__ u32 rotl(u32 x, int n) { return (x << n) | (x >> (32 - n)); }

#define QR(a, b, c, d)                        \
    a += b; d ^= a; d = rotl(d, 16);          \
    c += d; b ^= c; b = rotl(b, 12);          \
    a += b; d ^= a; d = rotl(d, 8);           \
    c += d; b ^= c; b = rotl(b, 7);

extern "C" __global__ void chacha20_blocks(const u32* __restrict__ key, const u32* __restrict__ nonce,
                                           u32 ctr0, u32* out, u64 n_blocks) {
    const u64 b = (u64)blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= n_blocks) return;
    u32 s[16];
    s[0] = 0x61707865u; s[1] = 0x3320646eu; s[2] = 0x79622d32u; s[3] = 0x6b206574u;
#pragma unroll
    for (int i = 0; i < 8; i++) s[4 + i] = key[i];
    s[12] = ctr0 + (u32)b;
    s[13] = nonce[0]; s[14] = nonce[1]; s[15] = nonce[2];
    u32 x[16];
#pragma unroll
    for (int i = 0; i < 16; i++) x[i] = s[i];
#pragma unroll
    for (int r = 0; r < 10; r++) {
        QR(x[0], x[4], x[8], x[12]) QR(x[1], x[5], x[9], x[13]) QR(x[2], x[6], x[10], x[14]) QR(x[3], x[7], x[11], x[15])
        QR(x[0], x[5], x[10], x[15]) QR(x[1], x[6], x[11], x[12]) QR(x[2], x[7], x[8], x[13]) QR(x[3], x[4], x[9], x[14])
    }
    u32* o = out + b * 16;
#pragma unroll
    for (int i = 0; i < 16; i++) o[i] = x[i] + s[i];
}
