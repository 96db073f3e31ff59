#!/usr/bin/env node
// snarkjs's own Groth16 prover with the blinding scalars r and s chosen by the
// caller instead of drawn at random, so that the proof is a pure function of
// (zkey, wtns, r, s) and a prover under test can be compared with it point by
// point.
//
// usage: node prove_fixed_rs.js ZKEY WTNS PROOF_OUT PUBLIC_OUT [r] [s]
//        r, s: decimal or 0x-hex integers, reduced mod the BN254 scalar field
//        order; both default to 0. NODE_PATH must point at a node_modules
//        folder holding snarkjs (tests/circuit_builder.py sets it).
//
// How: snarkjs 0.7.x's groth16 prover (src/groth16_prove.js) takes the bn128
// curve from ffjavascript's per-process singleton and draws
//     const r = curve.Fr.random();
//     const s = curve.Fr.random();
// We fetch the same singleton, swap Fr.random for a function that hands out
// r then s, and insist afterwards that it was called exactly twice: any other
// count means snarkjs changed the way it blinds, and the output would not
// mean what the caller thinks.
"use strict";
const fs = require("fs");
const snarkjs = require("snarkjs");

function parseScalar(str, name) {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(str)) {
    throw new Error(`${name} must be a non-negative decimal or 0x-hex integer, got ${JSON.stringify(str)}`);
  }
  return BigInt(str);
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 4 || args.length > 6) {
    throw new Error("usage: node prove_fixed_rs.js ZKEY WTNS PROOF_OUT PUBLIC_OUT [r] [s]");
  }
  const [zkeyPath, wtnsPath, proofOut, publicOut] = args;
  const r = parseScalar(args[4] ?? "0", "r");
  const s = parseScalar(args[5] ?? "0", "s");

  const curve = await snarkjs.curves.getCurveFromName("bn128");
  const Fr = curve.Fr;
  const draws = [Fr.e(r), Fr.e(s)];
  let calls = 0;
  const original = Fr.random;
  Fr.random = function fixedRandom() {
    calls += 1;
    if (calls > draws.length) {
      throw new Error(`Fr.random called ${calls} times during groth16.prove; expected exactly 2 (r, s)`);
    }
    return draws[calls - 1];
  };
  let result;
  try {
    result = await snarkjs.groth16.prove(zkeyPath, wtnsPath);
  } finally {
    Fr.random = original;
  }
  if (calls !== 2) {
    throw new Error(`Fr.random called ${calls} times during groth16.prove; expected exactly 2 (r, s). ` +
                    "Has snarkjs changed how it draws the blinding scalars?");
  }
  // Same formatting as `snarkjs groth16 prove` (bfj, space 1).
  fs.writeFileSync(proofOut, JSON.stringify(result.proof, null, 1));
  fs.writeFileSync(publicOut, JSON.stringify(result.publicSignals, null, 1));
  console.log(`prove_fixed_rs: wrote ${proofOut} and ${publicOut} (r=${r}, s=${s})`);
}

main().then(
  () => process.exit(0),
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);
