# aes_gcm_stream encrypt|decrypt KEYFILE: stdin to stdout under AES-256-GCM in 1 MiB chunks, through
# the system's libcrypto (python3's ctypes; the openssl command has no AEAD stream). KEYFILE holds
# the key in base64. The stream: "VIPGCM1" and a NUL, a random 7-byte nonce prefix, then each
# chunk's ciphertext and its 16-byte tag. A chunk's nonce is the prefix, its index (4 bytes, big
# endian) and a byte that is 1 on the last chunk only; the 15-byte header is every chunk's
# additional data. An altered, reordered or truncated stream, or another key, fails to decrypt.
# (scripts/open-backup.ts opens the same format with Node's crypto, apart from the panel.)
aes_gcm_stream() {
  python3 -c '
import base64, ctypes, ctypes.util, os, sys
mode, key = sys.argv[1], base64.b64decode(open(sys.argv[2]).read().strip())
lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
vp, ip = ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)
lib.EVP_CIPHER_CTX_new.restype = vp
lib.EVP_aes_256_gcm.restype = vp
lib.EVP_CIPHER_CTX_ctrl.argtypes = [vp, ctypes.c_int, ctypes.c_int, vp]
for side in ("Encrypt", "Decrypt"):
    getattr(lib, "EVP_%sInit_ex" % side).argtypes = [vp, vp, vp, ctypes.c_char_p, ctypes.c_char_p]
    getattr(lib, "EVP_%sUpdate" % side).argtypes = [vp, vp, ip, ctypes.c_char_p, ctypes.c_int]
    getattr(lib, "EVP_%sFinal_ex" % side).argtypes = [vp, vp, ip]
ctx, cipher = lib.EVP_CIPHER_CTX_new(), lib.EVP_aes_256_gcm()
CHUNK, MAGIC, TAG = 1 << 20, b"VIPGCM1\0", 16
def fail(why):
    sys.stderr.write("the backup does not decrypt: %s\n" % why)
    sys.exit(1)
def crypt(encrypt, nonce, aad, data, tag=b""):
    side = "Encrypt" if encrypt else "Decrypt"
    n, rest = ctypes.c_int(0), ctypes.c_int(0)
    out, tail = ctypes.create_string_buffer(len(data) + 32), ctypes.create_string_buffer(32)
    if getattr(lib, "EVP_%sInit_ex" % side)(ctx, cipher, None, key, nonce) != 1:
        fail("no AES-256-GCM in libcrypto")
    getattr(lib, "EVP_%sUpdate" % side)(ctx, None, ctypes.byref(n), aad, len(aad))
    getattr(lib, "EVP_%sUpdate" % side)(ctx, out, ctypes.byref(n), data, len(data))
    size = n.value
    if not encrypt:
        lib.EVP_CIPHER_CTX_ctrl(ctx, 0x11, TAG, ctypes.create_string_buffer(tag, TAG))
    if getattr(lib, "EVP_%sFinal_ex" % side)(ctx, tail, ctypes.byref(rest)) != 1:
        fail("it was altered, truncated or made with another key")
    body = out.raw[:size] + tail.raw[:rest.value]
    if encrypt:
        made = ctypes.create_string_buffer(TAG)
        lib.EVP_CIPHER_CTX_ctrl(ctx, 0x10, TAG, made)
        body += made.raw
    return body
source, sink = sys.stdin.buffer, sys.stdout.buffer
def read(size):
    got = bytearray()
    while len(got) < size:
        more = source.read(size - len(got))
        if not more:
            break
        got += more
    return bytes(got)
if mode == "encrypt":
    header = MAGIC + os.urandom(7)
    sink.write(header)
    size = CHUNK
else:
    header = read(15)
    if len(header) != 15 or header[:8] != MAGIC:
        fail("it is not an encrypted backup")
    size = CHUNK + TAG
index, current = 0, read(size)
while True:
    following = read(size) if len(current) == size else b""
    last = not following
    nonce = header[8:] + index.to_bytes(4, "big") + (b"\1" if last else b"\0")
    if mode == "encrypt":
        sink.write(crypt(True, nonce, header, current))
    elif len(current) < TAG:
        fail("it was truncated")
    else:
        sink.write(crypt(False, nonce, header, current[:-TAG], current[-TAG:]))
    if last:
        break
    current, index = following, index + 1
sink.flush()
' "$1" "$2"
}
