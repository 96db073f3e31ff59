#!/bin/sh
# Make the identities and the committee file for compose.yaml's three nodes and client.
#
#   docker/make_keys.sh            (from the repository root, with `coprove` installed)
#   COPROVE="docker run --rm -u $(id -u):$(id -g) -v $PWD:/w -w /w coprove" docker/make_keys.sh
#                                  (with only the image: build it first, `docker build -t coprove .`)
#
# Writes
#   secrets/<name>.key   private keys, 0600; compose gives each one to its own container only
#   keys/<name>.crt      certificates, public: mounted read-only into every container
#   keys/committee.toml  addresses node1:7100..node3:7100 (compose service names), the
#                        fingerprints that pin them, and the client as a trusted client
#   data/node1..3, work/ the nodes' data directories and the client's working folder
#
# Never overwrites an identity: remove keys/ and secrets/ to start again.
set -eu

COPROVE=${COPROVE:-coprove}
NODES="node1 node2 node3"
CLIENT=client

if [ -e keys ] || [ -e secrets ]; then
    echo "make_keys.sh: keys/ or secrets/ already exists; remove both to make new identities" >&2
    exit 2
fi
mkdir -p keys data work
mkdir -m 700 secrets
for d in $NODES; do mkdir -p "data/$d"; done

# keygen writes <name>.key and <name>.crt together; the certificate is then copied into
# the public folder, the key stays in secrets/ (the whole of keys/ is mounted everywhere).
fingerprint() {  # keygen prints the fingerprint on stdout, its progress on stderr
    fp=$($COPROVE keygen --out secrets --name "$1" | grep -o 'sha256:[0-9a-f]\{64\}')
    [ -n "$fp" ] || { echo "make_keys.sh: keygen printed no fingerprint for $1" >&2; exit 1; }
    cp "secrets/$1.crt" "keys/$1.crt"
    echo "$fp"
}

{
    echo "# coprove committee for compose.yaml (written by docker/make_keys.sh)"
    echo "# Paths are relative to this file, except the client key: that is where compose"
    echo "# mounts it inside the client container."
    for n in $NODES; do
        fp=$(fingerprint "$n")
        printf '\n[[node]]\nname = "%s"\naddress = "%s:7100"\nfingerprint = "%s"\ncert = "%s.crt"\n' \
            "$n" "$n" "$fp" "$n"
    done
    fp=$(fingerprint "$CLIENT")
    printf '\n[[trusted_client]]\nname = "%s"\nfingerprint = "%s"\ncert = "%s.crt"\n' \
        "$CLIENT" "$fp" "$CLIENT"
    printf '\n[client]\nkey = "/run/secrets/%s.key"\ncert = "%s.crt"\n' "$CLIENT" "$CLIENT"
} > keys/committee.toml.tmp
mv keys/committee.toml.tmp keys/committee.toml

echo "make_keys.sh: wrote keys/committee.toml:" >&2
grep -E '^(name|fingerprint)' keys/committee.toml >&2
echo "make_keys.sh: put circuit.zkey and witness.wtns in work/, then" >&2
echo "  COPROVE_UID=$(id -u) COPROVE_GID=$(id -g) docker compose up --build --abort-on-container-exit" >&2
