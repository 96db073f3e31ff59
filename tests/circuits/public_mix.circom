pragma circom 2.0.0;

// PublicMix(P, N): P public inputs pub[0..P-1], one private input x, one
// public output out, and exactly N rank-1 constraints (N >= 3, P >= 1).
// A generalisation of three_public: public signals sit in the A, B and C
// parts of the constraints, and one constraint is purely linear (A = B = 0).
// The public inputs are free: any field elements give a satisfiable witness,
// so a test can draw them at random.
//
// public.json = [out, pub[0], ..., pub[P-1]] (outputs first, then public
// inputs in declaration order), so nPublic = P + 1 and the Groth16 domain in
// snarkjs is 2^ceil(log2(N + P + 2)).
template PublicMix(P, N) {
    assert(P >= 1);
    assert(N >= 3);
    signal input pub[P];   // public (made public by the main component)
    signal input x;        // private
    signal output out;     // public

    signal y;
    signal s[N - 2];

    // 1 constraint, purely linear, a public input in C.
    y <-- x + 3 * pub[0];
    y - x - 3 * pub[0] === 0;

    // N - 2 quadratic constraints with public inputs inside A and B.
    s[0] <== (x + pub[0]) * (y + pub[P - 1]);
    for (var i = 1; i < N - 2; i++) {
        s[i] <== (s[i - 1] + pub[i % P]) * (x + pub[(i + 1) % P] + i);
    }

    // 1 constraint with the public output and a public input in C.
    out <-- s[N - 3] * y - pub[P - 1];
    s[N - 3] * y === out + pub[P - 1];
}
