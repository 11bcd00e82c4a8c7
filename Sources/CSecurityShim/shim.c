#include "CSecurityShim.h"
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* The text written to a memory BIO, as a malloc'd C string (NULL when writing failed). */
static char *string_of_bio(BIO *bio, int written) {
    char *out = NULL;
    if (bio && written == 1) {
        char *data = NULL;
        long size = BIO_get_mem_data(bio, &data);
        out = malloc((size_t)size + 1);
        if (out) {
            memcpy(out, data, (size_t)size);
            out[size] = 0;
        }
    }
    BIO_free(bio);
    return out;
}

static char *pem_of_key(EVP_PKEY *key) {
    BIO *bio = BIO_new(BIO_s_mem());
    return string_of_bio(bio, bio ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) : 0);
}

static char *pem_of_certificate(X509 *certificate) {
    BIO *bio = BIO_new(BIO_s_mem());
    return string_of_bio(bio, bio ? PEM_write_bio_X509(bio, certificate) : 0);
}

void rcm_free(void *pointer) { free(pointer); }

int rcm_random_bytes(unsigned char *buffer, size_t length) {
    return RAND_bytes(buffer, (int)length) == 1 ? 0 : -1;
}

int rcm_es256_generate(char **pem_out) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) return -1;
    *pem_out = pem_of_key(key);
    EVP_PKEY_free(key);
    return *pem_out ? (int)strlen(*pem_out) : -1;
}

static EVP_PKEY *load_private(const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (!bio) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key && (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 256)) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

int rcm_es256_public_xy(const char *pem, unsigned char x[32], unsigned char y[32]) {
    EVP_PKEY *key = load_private(pem);
    if (!key) return -1;
    BIGNUM *bx = NULL, *by = NULL;
    int ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
             EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
             BN_bn2binpad(bx, x, 32) == 32 && BN_bn2binpad(by, y, 32) == 32;
    BN_free(bx);
    BN_free(by);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}

void *rcm_es256_load(const char *pem) { return load_private(pem); }

void rcm_es256_free(void *key) { EVP_PKEY_free((EVP_PKEY *)key); }

int rcm_es256_sign_loaded(void *loaded, const unsigned char *data, size_t length, unsigned char signature[64]) {
    EVP_PKEY *key = (EVP_PKEY *)loaded;
    if (!key) return -1;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t der_length = sizeof(der);
    int result = -1;
    if (context && EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(context, der, &der_length, data, length) == 1) {
        const unsigned char *cursor = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
        if (sig) {
            const BIGNUM *r = NULL, *s = NULL;
            ECDSA_SIG_get0(sig, &r, &s);
            if (BN_bn2binpad(r, signature, 32) == 32 && BN_bn2binpad(s, signature + 32, 32) == 32) result = 0;
            ECDSA_SIG_free(sig);
        }
    }
    EVP_MD_CTX_free(context);
    return result;
}

static EVP_PKEY *public_key(const unsigned char x[32], const unsigned char y[32]) {
    unsigned char point[65];
    point[0] = 0x04;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    OSSL_PARAM_BLD *builder = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *context = NULL;
    EVP_PKEY *key = NULL;
    if (builder && OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(builder)) != NULL &&
        (context = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL && EVP_PKEY_fromdata_init(context) == 1) {
        if (EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) key = NULL;
    }
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(builder);
    return key;
}

int rcm_es256_verify(const unsigned char x[32], const unsigned char y[32], const unsigned char *data,
                     size_t length, const unsigned char signature[64]) {
    EVP_PKEY *key = public_key(x, y);
    if (!key) return 0;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature, 32, NULL);
    BIGNUM *s = BN_bin2bn(signature + 32, 32, NULL);
    int valid = 0;
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = NULL;
        s = NULL;  // owned by sig now
        unsigned char *der = NULL;
        int der_length = i2d_ECDSA_SIG(sig, &der);
        EVP_MD_CTX *context = EVP_MD_CTX_new();
        if (der_length > 0 && context && EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) == 1 &&
            EVP_DigestVerify(context, der, (size_t)der_length, data, length) == 1) {
            valid = 1;
        }
        EVP_MD_CTX_free(context);
        OPENSSL_free(der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    EVP_PKEY_free(key);
    return valid;
}

static int add_extension(X509 *certificate, X509 *issuer, int nid, const char *value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
    if (!extension) return -1;
    int ok = X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
    return ok == 1 ? 0 : -1;
}

int rcm_issue_certificate(const char *common_name, const char *san, int days, const char *issuer_key_pem,
                          const char *issuer_cert_pem, char **key_pem_out, char **cert_pem_out) {
    int result = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    EVP_PKEY *issuer_key = NULL;
    X509 *issuer = NULL;
    X509 *certificate = X509_new();
    unsigned char serial[16];
    if (!key || !certificate || RAND_bytes(serial, sizeof(serial)) != 1) goto done;
    serial[0] &= 0x7f;
    BIGNUM *serial_bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(certificate));
    BN_free(serial_bn);
    X509_set_version(certificate, 2);
    X509_gmtime_adj(X509_getm_notBefore(certificate), -300);
    X509_gmtime_adj(X509_getm_notAfter(certificate), (long)days * 86400);
    X509_set_pubkey(certificate, key);
    X509_NAME *name = X509_get_subject_name(certificate);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"rcm development", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)common_name, -1, -1, 0);
    if (issuer_key_pem && issuer_cert_pem) {
        BIO *bio = BIO_new_mem_buf(issuer_cert_pem, -1);
        issuer = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        issuer_key = load_private(issuer_key_pem);
        if (!issuer || !issuer_key) goto done;
        X509_set_issuer_name(certificate, X509_get_subject_name(issuer));
        if (add_extension(certificate, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
            add_extension(certificate, issuer, NID_key_usage, "critical,digitalSignature") ||
            add_extension(certificate, issuer, NID_ext_key_usage, "serverAuth") ||
            (san && add_extension(certificate, issuer, NID_subject_alt_name, san)))
            goto done;
        if (X509_sign(certificate, issuer_key, EVP_sha256()) <= 0) goto done;
    } else {
        X509_set_issuer_name(certificate, name);
        if (add_extension(certificate, certificate, NID_basic_constraints, "critical,CA:TRUE") ||
            add_extension(certificate, certificate, NID_key_usage, "critical,keyCertSign,cRLSign") ||
            add_extension(certificate, certificate, NID_subject_key_identifier, "hash"))
            goto done;
        if (X509_sign(certificate, key, EVP_sha256()) <= 0) goto done;
    }
    *key_pem_out = pem_of_key(key);
    *cert_pem_out = pem_of_certificate(certificate);
    result = (*key_pem_out && *cert_pem_out) ? 0 : -1;
done:
    X509_free(certificate);
    X509_free(issuer);
    EVP_PKEY_free(key);
    EVP_PKEY_free(issuer_key);
    return result;
}

/// AES-256-GCM fetched from the default provider once: `EVP_aes_256_gcm()` makes every
/// initialisation look the algorithm up again (measured 0.94 against 0.60 µs a seal here).
static const EVP_CIPHER *rcm_aes_256_gcm(void) {
    static EVP_CIPHER *fetched = NULL;
    EVP_CIPHER *cipher = __atomic_load_n(&fetched, __ATOMIC_ACQUIRE);
    if (cipher) return cipher;
    EVP_CIPHER *mine = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!mine) return EVP_aes_256_gcm();
    EVP_CIPHER *expected = NULL;
    if (__atomic_compare_exchange_n(&fetched, &expected, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return mine;
    EVP_CIPHER_free(mine);  // another thread fetched it first
    return expected;
}

int rcm_aes_gcm_seal(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad,
                     size_t aad_length, const unsigned char *plaintext, size_t length, unsigned char *ciphertext,
                     unsigned char tag[16]) {
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int written = 0, ok = context && EVP_EncryptInit_ex(context, rcm_aes_256_gcm(), NULL, key, nonce) == 1 &&
                          (aad_length == 0 || EVP_EncryptUpdate(context, NULL, &written, aad, (int)aad_length) == 1) &&
                          EVP_EncryptUpdate(context, ciphertext, &written, plaintext, (int)length) == 1 &&
                          EVP_EncryptFinal_ex(context, ciphertext + written, &written) == 1 &&
                          EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok ? 0 : -1;
}

int rcm_aes_gcm_open(const unsigned char key[32], const unsigned char nonce[12], const unsigned char *aad,
                     size_t aad_length, const unsigned char *ciphertext, size_t length, const unsigned char tag[16],
                     unsigned char *plaintext) {
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    unsigned char expected[16];
    memcpy(expected, tag, 16);
    int written = 0, ok = context && EVP_DecryptInit_ex(context, rcm_aes_256_gcm(), NULL, key, nonce) == 1 &&
                          (aad_length == 0 || EVP_DecryptUpdate(context, NULL, &written, aad, (int)aad_length) == 1) &&
                          EVP_DecryptUpdate(context, plaintext, &written, ciphertext, (int)length) == 1 &&
                          EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, expected) == 1 &&
                          EVP_DecryptFinal_ex(context, plaintext + written, &written) == 1;
    EVP_CIPHER_CTX_free(context);
    return ok ? 0 : -1;
}

int rcm_hmac_sha256(const unsigned char *key, size_t key_length, const unsigned char *data, size_t length,
                    unsigned char out[32]) {
    unsigned int out_length = 32;
    return HMAC(EVP_sha256(), key, (int)key_length, data, length, out, &out_length) ? 0 : -1;
}
