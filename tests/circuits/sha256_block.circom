pragma circom 2.0.0;

include "circomlib/circuits/sha256/constants.circom";
include "circomlib/circuits/sha256/sha256compression.circom";

// Sha256Block(): SHA-256 of a message that fits one block (at most 447 bits),
// given already padded as the 512 bits `in` (most significant bit of each byte
// first, as circomlib numbers them): one Sha256compression from the standard
// initial hash value, about 30k constraints, a witness of mostly 0/1 values.
// circomlib's Sha256(512) would pad 512 message bits into a second block and
// double the size; this is one block of the same circuitry.
template Sha256Block() {
    signal input in[512];     // private
    signal output out[256];   // public: the digest's bits

    component iv[8];
    component compress = Sha256compression();
    for (var i = 0; i < 8; i++) {
        iv[i] = H(i);
        for (var k = 0; k < 32; k++) {
            compress.hin[32*i + k] <== iv[i].out[k];
        }
    }
    for (var k = 0; k < 512; k++) {
        compress.inp[k] <== in[k];
    }
    for (var k = 0; k < 256; k++) {
        out[k] <== compress.out[k];
    }
}
