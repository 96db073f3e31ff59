"""Build Groth16/BN254 test circuits with the reference tools (circom2 + snarkjs).

A plain module (no pytest imports) used by tests/conftest.py. It needs node and
npm on PATH and, the first time, network access to the npm registry; everything
it makes lives in a cache folder outside the repository:

    $COPROVE_TEST_CACHE            (default ~/.cache/coprove-tests)
      npm/<tools-id>/node_modules    snarkjs 0.7.6 + circom2 0.2.23, pinned by
                                     tests/tools/package-lock.json
                                     (with circomlib 2.0.5, whose circuits/ the
                                     sha256_block kind copies into its build folder)
      ptau/<tools-id>/potK_final.ptau  made by make_ptau for domains beyond 2^12
      circuits/<name>-<key>/         compiled circuit + zkey + vkey, keyed by a
                                     hash of (circom source, params, ptau hash,
                                     tool versions)
        witness/<key>/               input.json, witness.wtns, proof.json,
                                     public.json for one set of inputs

The only inputs from the repository are tests/circuits/*.circom,
tests/tools/{package.json,package-lock.json,prove_fixed_rs.js} and the
prepared powers of tau tests/data/ptau/pot12_final.ptau (domains up to 2^12).

Setup is deterministic: the phase-2 contribution is a `snarkjs zkey beacon`
whose beacon hash is derived from the cache key (a `zkey contribute` would mix
in random bytes), so rebuilding a circuit gives the same zkey.

circom2 is a WASI build of circom: it only sees the current directory through
relative paths, so compilation runs inside the build folder with relative
paths only.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import struct
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

HERE = Path(__file__).resolve().parent
CIRCUITS_DIR = HERE / "circuits"
TOOLS_DIR = HERE / "tools"
PROVE_FIXED_RS_JS = TOOLS_DIR / "prove_fixed_rs.js"
PTAU = HERE / "data" / "ptau" / "pot12_final.ptau"
PTAU_POWER = 12

SNARKJS_VERSION = "0.7.6"
CIRCOM2_VERSION = "0.2.23"
# Bump when the build recipe below changes in a way that alters its outputs.
BUILDER_VERSION = 1

CACHE_ENV = "COPROVE_TEST_CACHE"
SEED_ENV = "COPROVE_TEST_SEED"

# BN254 scalar field order r and base field order q.
BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583

# How many witness/proof folders to keep per circuit (inputs change every session).
KEEP_WITNESS_DIRS = 8

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# (circuit name, step, seconds) for every step that ran in this process; the
# conftest prints it at the end of the session.
BUILD_LOG: list[tuple[str, str, float]] = []


class ToolError(RuntimeError):
    """A reference tool (npm, circom2, snarkjs) failed or is missing."""


# --------------------------------------------------------------------------- utilities

def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "coprove-tests"
    return root.resolve()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive fcntl lock on PATH (created if needed), so that parallel pytest
    processes sharing one cache build each thing once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=None)
def _sha256_file_cached(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    st = path.stat()
    return _sha256_file_cached(str(path), st.st_size, st.st_mtime_ns)


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def _stringify(value: Any) -> Any:
    """input.json values: ints as decimal strings (circom's witness calculator
    takes strings for values beyond 2^53), nested lists kept."""
    if isinstance(value, bool):
        raise TypeError("booleans are not circuit inputs")
    if isinstance(value, int):
        return str(value % BN254_R)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [_stringify(v) for v in value]
    raise TypeError(f"unsupported input value {value!r}")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _run(cmd: Sequence[str | os.PathLike], *, cwd: Path | None = None,
         env: Mapping[str, str] | None = None, timeout: float = 600,
         what: str = "") -> subprocess.CompletedProcess:
    """Run CMD, capture its output, raise ToolError with the output's tail on failure."""
    try:
        proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise ToolError(f"{what or cmd[0]}: executable not found ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{what or cmd[0]}: timed out after {timeout} s") from exc
    if proc.returncode != 0:
        raise ToolError(
            f"{what or 'command'} failed (exit {proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"cwd: {cwd}\n{_tail(proc.stdout + proc.stderr)}")
    return proc


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(_strip_ansi(text).rstrip().splitlines()[-lines:])


@contextlib.contextmanager
def _timed(name: str, step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    BUILD_LOG.append((name, step, time.perf_counter() - t0))


# --------------------------------------------------------------------------- npm tools

@dataclasses.dataclass(frozen=True)
class NpmTools:
    """snarkjs and circom2 installed by npm into a cache folder."""

    root: Path            # the folder holding package.json and node_modules
    node: str             # node executable
    snarkjs: Path         # node_modules/.bin/snarkjs
    circom2: Path         # node_modules/.bin/circom2
    snarkjs_version: str
    circom2_version: str

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def tools_id(self) -> str:
        return self.root.name

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NODE_PATH"] = str(self.node_modules)
        env["NODE_NO_WARNINGS"] = "1"  # circom2's "WASI is experimental" warning
        return env

    def snarkjs_run(self, *args: str | os.PathLike, cwd: Path | None = None,
                    check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        cmd = [self.node, str(self.snarkjs), *map(str, args)]
        if check:
            return _run(cmd, cwd=cwd, env=self.env(), timeout=timeout,
                        what=f"snarkjs {' '.join(map(str, args[:2]))}")
        return subprocess.run(cmd, cwd=cwd, env=self.env(), capture_output=True, text=True,
                              timeout=timeout)

    def circom2_run(self, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
        for a in args:
            if a.startswith("/"):
                raise ValueError(f"circom2 (WASI) only sees cwd-relative paths, got {a!r}")
        return _run([self.node, str(self.circom2), *args], cwd=cwd, env=self.env(),
                    timeout=timeout, what="circom2")


def install_npm_tools(cache: Path | None = None) -> NpmTools:
    """Install the pinned snarkjs + circom2 into the cache (once) and return their paths.

    Raises ToolError with an explanation when node/npm are missing or the
    install fails (typically: no network on the first run)."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        raise ToolError("the circuit-building tests need node and npm on PATH "
                        f"(node: {node}, npm: {npm})")
    package_json = (TOOLS_DIR / "package.json").read_bytes()
    package_lock = (TOOLS_DIR / "package-lock.json").read_bytes()
    tools_hash = _sha256_bytes(package_json + b"\0" + package_lock)[:12]
    npm_dir = (cache or cache_root()) / "npm"
    dest = npm_dir / f"snarkjs-{SNARKJS_VERSION}_circom2-{CIRCOM2_VERSION}_{tools_hash}"
    stamp = dest / ".installed"
    bin_dir = dest / "node_modules" / ".bin"

    def tools() -> NpmTools:
        return NpmTools(root=dest, node=node, snarkjs=bin_dir / "snarkjs",
                        circom2=bin_dir / "circom2", snarkjs_version=SNARKJS_VERSION,
                        circom2_version=CIRCOM2_VERSION)

    def bins_ok() -> bool:
        return (bin_dir / "snarkjs").exists() and (bin_dir / "circom2").exists()

    def installed_ok() -> bool:
        return stamp.exists() and bins_ok()

    if installed_ok():
        return tools()
    with file_lock(npm_dir / f".{dest.name}.lock"):
        if installed_ok():
            return tools()
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        (dest / "package.json").write_bytes(package_json)
        (dest / "package-lock.json").write_bytes(package_lock)
        cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=dest, capture_output=True, text=True, timeout=900)
            rc, out = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            rc, out = -1, "npm ci timed out after 900 s"
        BUILD_LOG.append(("npm", "npm ci", time.perf_counter() - t0))
        if rc != 0:
            raise ToolError(
                f"could not install snarkjs@{SNARKJS_VERSION} and circom2@{CIRCOM2_VERSION} with npm "
                f"into {dest} (`{' '.join(cmd)}` exited {rc}).\n"
                "The circuit-building tests (marker 'slow') need the npm registry once; the tools "
                f"are cached afterwards (set {CACHE_ENV} to move the cache). Fix the network/npm "
                "configuration, or deselect them with: pytest -m 'not slow'\n"
                f"npm output (tail):\n{_tail(out)}")
        for pkg, want in (("snarkjs", SNARKJS_VERSION), ("circom2", CIRCOM2_VERSION)):
            meta = json.loads((dest / "node_modules" / pkg / "package.json").read_text())
            if meta.get("version") != want:
                raise ToolError(f"npm installed {pkg}@{meta.get('version')}, expected {want}")
        if not bins_ok():
            raise ToolError(f"npm ci in {dest} succeeded but node_modules/.bin lacks snarkjs/circom2")
        stamp.write_text(json.dumps({"snarkjs": SNARKJS_VERSION, "circom2": CIRCOM2_VERSION,
                                     "installed": time.time()}) + "\n")
    return tools()


# --------------------------------------------------------------------------- binary headers

def _read_sections(fh, magic: bytes) -> dict[int, list[tuple[int, int]]]:
    """iden3 binfile: magic(4) version(u32) nSections(u32) {type u32, size u64, data}."""
    head = fh.read(12)
    if len(head) != 12 or head[:4] != magic:
        raise ValueError(f"not a {magic.decode()} file (magic {head[:4]!r})")
    n_sections = struct.unpack_from("<I", head, 8)[0]
    sections: dict[int, list[tuple[int, int]]] = {}
    pos = 12
    for _ in range(n_sections):
        fh.seek(pos)
        hdr = fh.read(12)
        if len(hdr) != 12:
            raise ValueError("truncated binfile section table")
        stype, size = struct.unpack("<IQ", hdr)
        sections.setdefault(stype, []).append((pos + 12, size))
        pos += 12 + size
    return sections


@dataclasses.dataclass(frozen=True)
class ZkeyHeader:
    n8q: int
    q: int
    n8r: int
    r: int
    n_vars: int
    n_public: int
    domain_size: int


def read_zkey_header(path: Path) -> ZkeyHeader:
    """Sizes from a Groth16 .zkey (section 1 = protocol, section 2 = Groth16 header:
    n8q, q, n8r, r, nVars, nPublic, domainSize, then the vk points)."""
    with open(path, "rb") as fh:
        sections = _read_sections(fh, b"zkey")
        fh.seek(sections[1][0][0])
        protocol = struct.unpack("<I", fh.read(4))[0]
        if protocol != 1:
            raise ValueError(f"{path}: zkey protocol {protocol} is not Groth16 (1)")
        fh.seek(sections[2][0][0])
        n8q = struct.unpack("<I", fh.read(4))[0]
        q = int.from_bytes(fh.read(n8q), "little")
        n8r = struct.unpack("<I", fh.read(4))[0]
        r = int.from_bytes(fh.read(n8r), "little")
        n_vars, n_public, domain_size = struct.unpack("<III", fh.read(12))
    return ZkeyHeader(n8q, q, n8r, r, n_vars, n_public, domain_size)


@dataclasses.dataclass(frozen=True)
class R1csHeader:
    prime: int
    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    n_labels: int
    n_constraints: int


def read_r1cs_header(path: Path) -> R1csHeader:
    """Section 1 of a .r1cs: n8, prime, nWires, nPubOut, nPubIn, nPrvIn, nLabels(u64), mConstraints."""
    with open(path, "rb") as fh:
        sections = _read_sections(fh, b"r1cs")
        fh.seek(sections[1][0][0])
        n8 = struct.unpack("<I", fh.read(4))[0]
        prime = int.from_bytes(fh.read(n8), "little")
        n_wires, n_pub_out, n_pub_in, n_prv_in = struct.unpack("<IIII", fh.read(16))
        n_labels, n_constraints = struct.unpack("<QI", fh.read(12))
    return R1csHeader(prime, n_wires, n_pub_out, n_pub_in, n_prv_in, n_labels, n_constraints)


# --------------------------------------------------------------------------- snarkjs helpers

_VERIFY_REJECTIONS = ("Invalid proof", "Proof commitments are not valid", "Public inputs are not valid")


def snarkjs_verify(npm_tools: NpmTools, vkey: Path, public: Path, proof: Path) -> bool:
    """`snarkjs groth16 verify VKEY PUBLIC PROOF`: True when it printed "OK!" and
    exited 0, False when it rejected the proof (Invalid proof, malformed points,
    public inputs out of range). Anything else (a crash, an unreadable file) raises
    ToolError, so that a broken check is never mistaken for a rejection."""
    proc = npm_tools.snarkjs_run("groth16", "verify", vkey, public, proof, check=False)
    out = _strip_ansi(proc.stdout + proc.stderr)
    if proc.returncode == 0 and "OK!" in out:
        return True
    if proc.returncode != 0 and any(msg in out for msg in _VERIFY_REJECTIONS):
        return False
    raise ToolError(f"snarkjs groth16 verify neither accepted nor rejected the proof "
                    f"(exit {proc.returncode}):\n{_tail(out)}")


def prove_fixed_rs(npm_tools: NpmTools, zkey: Path, wtns: Path, proof_out: Path,
                   public_out: Path, r: int = 0, s: int = 0) -> tuple[Path, Path]:
    """snarkjs's own groth16 prover with blinding scalars r, s fixed (tests/tools/prove_fixed_rs.js)."""
    proof_out, public_out = Path(proof_out), Path(public_out)
    proof_out.parent.mkdir(parents=True, exist_ok=True)
    public_out.parent.mkdir(parents=True, exist_ok=True)
    _run([npm_tools.node, PROVE_FIXED_RS_JS, zkey, wtns, proof_out, public_out,
          str(int(r) % BN254_R), str(int(s) % BN254_R)],
         env=npm_tools.env(), what="prove_fixed_rs.js")
    return proof_out, public_out


def wtns_check(npm_tools: NpmTools, r1cs: Path, wtns: Path) -> None:
    """`snarkjs wtns check`; raises ToolError unless the witness satisfies the R1CS."""
    proc = npm_tools.snarkjs_run("wtns", "check", r1cs, wtns, check=False)
    out = _strip_ansi(proc.stdout + proc.stderr)
    if proc.returncode != 0 or "WITNESS CHECKING FINISHED SUCCESSFULLY" not in out:
        raise ToolError(f"snarkjs wtns check: {wtns} does not satisfy {r1cs} "
                        f"(exit {proc.returncode}):\n{_tail(out)}")


# --------------------------------------------------------------------------- circuits

@dataclasses.dataclass(frozen=True)
class Kind:
    source: str                 # file in tests/circuits
    template: str
    public: tuple[str, ...]     # input signals of main made public
    # npm packages (from tests/tools/package.json) whose circuits/ folder is copied
    # into the build's src/, for `include "<package>/circuits/..."` under circom2's
    # cwd-only view
    libs: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    # MulChain(N): N constraints, private x, public output out -> nPublic 1.
    "mul_chain": Kind("mul_chain.circom", "MulChain", ()),
    # PublicMix(P, N): N constraints, P public inputs pub[], private x, public
    # output out -> nPublic P + 1, public.json = [out, pub...].
    "public_mix": Kind("public_mix.circom", "PublicMix", ("pub",)),
    # Sha256Block(): circomlib's SHA-256 compression of one padded 512-bit block,
    # private in[512] bits, public output out[256] bits -> nPublic 256, domain 2^15
    # (a ptau of power >= 15; see make_ptau).
    "sha256_block": Kind("sha256_block.circom", "Sha256Block", (), libs=("circomlib",)),
}


def sha256_block_inputs(message: bytes) -> dict[str, Any]:
    """Inputs of sha256_block for MESSAGE (at most 55 bytes): SHA-256's padding
    (0x80, zeros, the bit length as 64-bit big-endian) to one block, as bits,
    most significant first. The circuit's public output is then the bits of
    hashlib.sha256(MESSAGE) in the same order."""
    if len(message) > 55:
        raise ValueError(f"a one-block SHA-256 message has at most 55 bytes, got {len(message)}")
    block = message + b"\x80" + bytes(55 - len(message)) + struct.pack(">Q", 8 * len(message))
    return {"in": bytes_to_bits(block)}


def bytes_to_bits(data: bytes) -> list[int]:
    return [(byte >> (7 - i)) & 1 for byte in data for i in range(8)]


def main_source(kind: str, params: Sequence[int]) -> str:
    k = KINDS[kind]
    args = ", ".join(str(int(p)) for p in params)
    public = f" {{public [{', '.join(k.public)}]}}" if k.public else ""
    return (f'pragma circom 2.0.0;\ninclude "{k.source}";\n\n'
            f"component main{public} = {k.template}({args});\n")


@dataclasses.dataclass(frozen=True)
class BuiltCircuit:
    name: str
    kind: str
    params: tuple[int, ...]
    inputs: dict[str, Any]
    dir: Path               # setup folder (r1cs, wasm, zkey, vkey)
    run_dir: Path           # witness folder (input.json, wtns, proof, public)
    r1cs: Path
    wasm: Path
    zkey: Path
    vkey: Path              # verification_key.json
    input_json: Path
    wtns: Path
    proof: Path             # made by `snarkjs groth16 prove` (random r, s)
    public: Path
    n_constraints: int
    n_public: int
    n_vars: int
    domain_size: int
    npm_tools: NpmTools = dataclasses.field(repr=False, compare=False)

    def prove_fixed(self, r: int, s: int, out_dir: Path) -> tuple[Path, Path]:
        """snarkjs's prover on this zkey + witness with r, s fixed; returns (proof, public)."""
        r, s = int(r) % BN254_R, int(s) % BN254_R
        tag = (f"r{r}_s{s}" if max(r, s) < 10**12
               else "rs_" + _sha256_bytes(f"{r},{s}".encode())[:16])
        out_dir = Path(out_dir)
        return prove_fixed_rs(self.npm_tools, self.zkey, self.wtns,
                              out_dir / f"{self.name}_proof_{tag}.json",
                              out_dir / f"{self.name}_public_{tag}.json", r, s)

    def public_signals(self) -> list[int]:
        return [int(v) for v in json.loads(self.public.read_text())]

    def verify(self, proof: Path | None = None, public: Path | None = None) -> bool:
        return snarkjs_verify(self.npm_tools, self.vkey, public or self.public, proof or self.proof)


def ptau_power(path: Path) -> int:
    """The power of a .ptau file (section 1: n8 u32, q, power u32, ceremonyPower u32)."""
    with open(path, "rb") as fh:
        off, _ = _read_sections(fh, b"ptau")[1][0]
        fh.seek(off)
        n8 = struct.unpack("<I", fh.read(4))[0]
        fh.seek(off + 4 + n8)
        return struct.unpack("<I", fh.read(4))[0]


def make_ptau(npm_tools: NpmTools, power: int, cache: Path | None = None) -> Path:
    """A prepared powers of tau of POWER (domains up to 2^POWER), made once into
    the cache: `powersoftau new`, one `beacon` contribution and `prepare phase2`.
    Deterministic like the circuit setups (the beacon hash is fixed), hence fit
    for benches and tests only. Power 15 takes minutes, mostly prepare phase2."""
    d = (cache or cache_root()) / "ptau" / npm_tools.tools_id
    final = d / f"pot{power}_final.ptau"
    if final.exists():
        return final
    with file_lock(d / f".pot{power}.lock"):
        if final.exists():
            return final
        work = d / f"pot{power}.tmp"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        name = f"ptau_2e{power}"
        with _timed(name, "powersoftau new"):
            npm_tools.snarkjs_run("powersoftau", "new", "bn128", str(power), "0000.ptau",
                                  cwd=work, timeout=3600)
        with _timed(name, "powersoftau beacon"):
            beacon = _sha256_bytes(b"coprove tests deterministic ptau beacon")
            npm_tools.snarkjs_run("powersoftau", "beacon", "0000.ptau", "beacon.ptau", beacon, "10",
                                  "-n=coprove tests deterministic beacon", cwd=work, timeout=3600)
        with _timed(name, "prepare phase2"):
            npm_tools.snarkjs_run("powersoftau", "prepare", "phase2", "beacon.ptau", "final.ptau",
                                  cwd=work, timeout=3600)
        if ptau_power(work / "final.ptau") != power:
            raise ToolError(f"snarkjs made {work / 'final.ptau'} of power "
                            f"{ptau_power(work / 'final.ptau')}, expected {power}")
        os.replace(work / "final.ptau", final)
        shutil.rmtree(work, ignore_errors=True)
    return final


def _setup(tools: NpmTools, name: str, kind: str, params: tuple[int, ...], d: Path,
           key: str, ptau: Path) -> dict[str, Any]:
    """Compile and run the Groth16 setup inside D (empty); returns the metadata."""
    k = KINDS[kind]
    (d / "src").mkdir(parents=True)
    shutil.copyfile(CIRCUITS_DIR / k.source, d / "src" / k.source)
    for lib in k.libs:
        shutil.copytree(tools.node_modules / lib / "circuits", d / "src" / lib / "circuits")
    (d / "main.circom").write_text(main_source(kind, params))
    with _timed(name, "circom2 compile"):
        # relative paths only: circom2 is WASI and sees nothing else
        tools.circom2_run("main.circom", "--r1cs", "--wasm", "--sym", "-l", "src", "-o", ".", cwd=d)
    r1 = read_r1cs_header(d / "main.r1cs")
    n_public = r1.n_pub_out + r1.n_pub_in
    need = r1.n_constraints + n_public + 1
    power = ptau_power(ptau)
    if need > 1 << power:
        raise ToolError(f"{name}: {r1.n_constraints} constraints + {n_public} public + 1 = {need} "
                        f"exceeds the 2^{power} powers of tau in {ptau}")
    with _timed(name, "groth16 setup"):
        tools.snarkjs_run("groth16", "setup", "main.r1cs", ptau, "circuit_0000.zkey", cwd=d)
    with _timed(name, "zkey beacon"):
        # deterministic phase-2 contribution: the beacon hash comes from the cache key
        tools.snarkjs_run("zkey", "beacon", "circuit_0000.zkey", "circuit.zkey", key[:64], "10",
                          "-n=coprove tests deterministic beacon", cwd=d)
    (d / "circuit_0000.zkey").unlink()
    with _timed(name, "export vkey"):
        tools.snarkjs_run("zkey", "export", "verificationkey", "circuit.zkey",
                          "verification_key.json", cwd=d)
    zh = read_zkey_header(d / "circuit.zkey")
    if zh.n_public != n_public or zh.r != BN254_R or zh.q != BN254_Q:
        raise ToolError(f"{name}: zkey header {zh} disagrees with r1cs {r1}")
    return {"name": name, "kind": kind, "params": list(params), "key": key,
            "n_constraints": r1.n_constraints, "n_public": zh.n_public, "n_vars": zh.n_vars,
            "domain_size": zh.domain_size, "snarkjs": tools.snarkjs_version,
            "circom2": tools.circom2_version, "ptau_sha256": sha256_file(ptau)}


def _witness_and_prove(tools: NpmTools, name: str, d: Path, run: Path,
                       inputs: Mapping[str, Any]) -> None:
    run.mkdir(parents=True)
    (run / "input.json").write_text(json.dumps({k: _stringify(v) for k, v in inputs.items()},
                                               indent=1) + "\n")
    with _timed(name, "wtns calculate"):
        tools.snarkjs_run("wtns", "calculate", d / "main_js" / "main.wasm", run / "input.json",
                          run / "witness.wtns")
    with _timed(name, "wtns check"):
        wtns_check(tools, d / "main.r1cs", run / "witness.wtns")
    with _timed(name, "groth16 prove"):
        tools.snarkjs_run("groth16", "prove", d / "circuit.zkey", run / "witness.wtns",
                          run / "proof.json", run / "public.json")


def _prune_witness_dirs(parent: Path, keep: int) -> None:
    dirs = [p for p in parent.iterdir() if p.is_dir() and (p / "done").exists()]
    dirs.sort(key=lambda p: (p / "done").stat().st_mtime, reverse=True)
    for p in dirs[keep:]:
        shutil.rmtree(p, ignore_errors=True)


def build_circuit(npm_tools: NpmTools, name: str, kind: str, params: Sequence[int],
                  inputs: Mapping[str, Any], cache: Path | None = None,
                  ptau: Path | None = None) -> BuiltCircuit:
    """Compile + set up circuit KIND(PARAMS) (cached), then compute the witness for
    INPUTS, check it with `snarkjs wtns check` and prove it with `snarkjs groth16
    prove` (cached per inputs). NAME labels the cache folder and output files.
    PTAU: a prepared powers of tau (default: the committed 2^12 one)."""
    ptau = Path(ptau or PTAU).resolve()
    if not _NAME.match(name):
        raise ValueError(f"circuit name {name!r}: use letters, digits, '_', '.', '-'")
    if kind not in KINDS:
        raise ValueError(f"unknown circuit kind {kind!r}; known: {sorted(KINDS)}")
    params = tuple(int(p) for p in params)
    root = cache or cache_root()
    setup_key = _sha256_bytes(_canonical_json({
        "builder": BUILDER_VERSION,
        "kind": kind,
        "params": params,
        "main": main_source(kind, params),
        "source": (CIRCUITS_DIR / KINDS[kind].source).read_text(),
        "ptau": sha256_file(ptau),
        "tools": npm_tools.tools_id,
    }).encode())
    d = root / "circuits" / f"{name}-{setup_key[:16]}"
    meta_path = d / "setup.json"
    if not meta_path.exists():
        with file_lock(d.parent / f".{d.name}.lock"):
            if not meta_path.exists():
                shutil.rmtree(d, ignore_errors=True)
                d.mkdir(parents=True)
                meta = _setup(npm_tools, name, kind, params, d, setup_key, ptau)
                meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    meta = json.loads(meta_path.read_text())

    inputs = dict(inputs)
    input_key = _sha256_bytes(_canonical_json(
        {"setup": setup_key, "inputs": {k: _stringify(v) for k, v in inputs.items()}}).encode())
    wdir = d / "witness"
    run = wdir / input_key[:16]
    done = run / "done"
    if not done.exists():
        with file_lock(wdir / f".{run.name}.lock"):
            if not done.exists():
                shutil.rmtree(run, ignore_errors=True)
                _witness_and_prove(npm_tools, name, d, run, inputs)
                done.write_text("ok\n")
        _prune_witness_dirs(wdir, KEEP_WITNESS_DIRS)
    else:
        os.utime(done)  # most recently used: kept by the pruning

    return BuiltCircuit(
        name=name, kind=kind, params=params, inputs=inputs, dir=d, run_dir=run,
        r1cs=d / "main.r1cs", wasm=d / "main_js" / "main.wasm", zkey=d / "circuit.zkey",
        vkey=d / "verification_key.json", input_json=run / "input.json",
        wtns=run / "witness.wtns", proof=run / "proof.json", public=run / "public.json",
        n_constraints=meta["n_constraints"], n_public=meta["n_public"], n_vars=meta["n_vars"],
        domain_size=meta["domain_size"], npm_tools=npm_tools)


# --------------------------------------------------------------------------- fresh circuits

def session_seed() -> int:
    """The seed for this test session's random inputs: $COPROVE_TEST_SEED if set,
    else a fresh random one (stored in the environment, so pytest-xdist workers
    started later share it)."""
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        value = str(secrets.randbits(32))
        os.environ[SEED_ENV] = value
    return int(value, 0)


def random_field_element(rng: random.Random) -> int:
    return rng.randrange(1, BN254_R)


@dataclasses.dataclass(frozen=True)
class FreshSpec:
    name: str
    kind: str
    params: tuple[int, ...]
    n_constraints: int      # expected
    n_public: int           # expected
    domain_size: int        # expected
    make_inputs: Callable[[random.Random], dict[str, Any]] = dataclasses.field(repr=False)


def _mul_chain_inputs(rng: random.Random) -> dict[str, Any]:
    return {"x": random_field_element(rng)}


def _public_mix_inputs(n_pub: int) -> Callable[[random.Random], dict[str, Any]]:
    def make(rng: random.Random) -> dict[str, Any]:
        return {"pub": [random_field_element(rng) for _ in range(n_pub)],
                "x": random_field_element(rng)}
    return make


# Domain = next power of two >= constraints + nPublic + 1.
FRESH_SPECS: tuple[FreshSpec, ...] = (
    # 62 + 1 + 1 = 64: the domain exactly full
    FreshSpec("mul_chain_62", "mul_chain", (62,), 62, 1, 64, _mul_chain_inputs),
    # 700 + 1 + 1 = 702 -> 1024: a domain mostly, but not completely, filled
    FreshSpec("mul_chain_700", "mul_chain", (700,), 700, 1, 1024, _mul_chain_inputs),
    # 5 public inputs + 1 public output: 100 + 6 + 1 = 107 -> 128
    FreshSpec("public_mix_5x100", "public_mix", (5, 100), 100, 6, 128, _public_mix_inputs(5)),
)
FRESH_NAMES: tuple[str, ...] = tuple(s.name for s in FRESH_SPECS)


def build_fresh_circuits(npm_tools: NpmTools, seed: int,
                         cache: Path | None = None) -> dict[str, BuiltCircuit]:
    """Every FRESH_SPECS circuit with inputs drawn from random.Random(seed) (one
    independent stream per circuit, so adding a circuit leaves the others alone)."""
    out: dict[str, BuiltCircuit] = {}
    for spec in FRESH_SPECS:
        rng = random.Random(f"{seed}:{spec.name}")
        out[spec.name] = build_circuit(npm_tools, spec.name, spec.kind, spec.params,
                                       spec.make_inputs(rng), cache=cache)
    return out
