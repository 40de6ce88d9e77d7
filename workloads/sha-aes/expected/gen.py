#!/usr/bin/python3
"""Reference for the sha-aes workload: writes expected/<size>.json, the exact output the module
must give for each input size of ../workload.yaml.

Independent of the Go module: the input is regenerated here from the manifest's `generate: bytes`
parameters (splitmix64, see ../../README.md), SHA-256 comes from hashlib and AES-256-GCM from
the `cryptography` package (OpenSSL), which Debian's /usr/bin/python3 has from the package
python3-cryptography (apt-get install -y python3-cryptography); everything else is the standard
library.

Usage (from any directory):
  expected/gen.py              write expected/<size>.json
  expected/gen.py --check      compare instead of writing; exit 1 on a difference
  expected/gen.py --inputs DIR also write each size's input bytes to DIR/<size>.json
"""
import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include"))
from reclave_ref import gen_bytes, generated_inputs  # noqa: E402

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = os.path.dirname(HERE)

# The module's constants (see main_wasip1.go).
KEY = hashlib.sha256(b"reclave sha-aes key v1").digest()
NONCE = hashlib.sha256(b"reclave sha-aes nonce v1").digest()[:12]
AAD = b"reclave sha-aes aad v1"


def expected(data):
    sealed = AESGCM(KEY).encrypt(NONCE, data, AAD)  # ciphertext || 16-byte tag
    assert AESGCM(KEY).decrypt(NONCE, sealed, AAD) == data
    out = {
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "ciphertext_sha256": hashlib.sha256(sealed).hexdigest(),
        "tag": sealed[-16:].hex(),
        "ok": True,
    }
    return json.dumps(out, separators=(",", ":")).encode()


def main(argv):
    check = "--check" in argv
    inputs_dir = argv[argv.index("--inputs") + 1] if "--inputs" in argv else None
    failed = False
    for size, (count, seed) in sorted(generated_inputs(FOLDER, "bytes").items()):
        data = gen_bytes(count, seed)
        doc = json.dumps({"data": base64.b64encode(data).decode()}, separators=(",", ":")).encode()
        if inputs_dir:
            with open(os.path.join(inputs_dir, size + ".json"), "wb") as f:
                f.write(doc)
        want = expected(data)
        path = os.path.join(HERE, size + ".json")
        if check:
            have = open(path, "rb").read() if os.path.exists(path) else b""
            if have != want:
                print(f"gen.py: {path} differs from the reference", file=sys.stderr)
                failed = True
            continue
        with open(path, "wb") as f:
            f.write(want)
        print(f"{size}: {count} bytes, input sha256 {hashlib.sha256(doc).hexdigest()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
