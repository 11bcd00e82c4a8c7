#ifndef RCM_CSECURITYSHIM_H
#define RCM_CSECURITYSHIM_H
#include <stddef.h>
#include <stdint.h>
#include <argon2.h>

/// ES256 (ECDSA P-256 with SHA-256) through OpenSSL 3, reduced to what JWTs need.
/// Signatures are JOSE's raw form: r and s, 32 bytes each, big-endian (RFC 7518 §3.4).

/// Generates a P-256 private key as PKCS#8 PEM; *pem_out is malloc'd (free with rcm_free).
/// Returns the PEM length, or -1.
int rcm_es256_generate(char **pem_out);

/// The public point (x, y) of a PEM private key. Returns 0 on success.
int rcm_es256_public_xy(const char *pem, unsigned char x[32], unsigned char y[32]);

/// A PEM private key parsed once (OpenSSL 3's PEM decoders cost about a millisecond per parse);
/// NULL when it is not a P-256 key. Free with rcm_es256_free.
void *rcm_es256_load(const char *pem);
void rcm_es256_free(void *key);

/// Signs data with a key from rcm_es256_load. Returns 0 on success.
int rcm_es256_sign_loaded(void *key, const unsigned char *data, size_t length, unsigned char signature[64]);

/// Verifies a raw signature with the public point (x, y). Returns 1 when valid, 0 when not.
int rcm_es256_verify(const unsigned char x[32], const unsigned char y[32], const unsigned char *data,
                     size_t length, const unsigned char signature[64]);

/// Fills buffer with cryptographically strong random bytes. Returns 0 on success.
int rcm_random_bytes(unsigned char *buffer, size_t length);

void rcm_free(void *pointer);

/// AES-256-GCM: encrypts `length` bytes with a 32-byte key and 12-byte nonce; writes the ciphertext
/// (same length) and the 16-byte tag. `aad` is authenticated, not encrypted. Returns 0 on success.
int rcm_aes_gcm_seal(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad,
                     size_t aad_length, const unsigned char *plaintext, size_t length, unsigned char *ciphertext,
                     unsigned char tag[16]);

/// Decrypts and checks the tag. Returns 0 when authentic, -1 when not.
int rcm_aes_gcm_open(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad,
                     size_t aad_length, const unsigned char *ciphertext, size_t length, const unsigned char tag[16],
                     unsigned char *plaintext);

/// HMAC-SHA-256. Returns 0 on success.
int rcm_hmac_sha256(const unsigned char *key, size_t key_length, const unsigned char *data, size_t length,
                    unsigned char out[32]);

/// Issues an X.509 certificate (P-256, SHA-256) for `common_name`. With issuer_key_pem and
/// issuer_cert_pem NULL the certificate is a self-signed CA; otherwise it is a server certificate
/// signed by that CA, with the subject alternative names in `san` (e.g. "DNS:localhost,IP:127.0.0.1").
/// Writes malloc'd PEM strings. Returns 0 on success.
int rcm_issue_certificate(const char *common_name, const char *san, int days, const char *issuer_key_pem,
                          const char *issuer_cert_pem, char **key_pem_out, char **cert_pem_out);

#endif
