/*
 * scep_ra.h: the test RA key and certificate of tests/fuzz/fuzz_scep.c
 * and tests/unit/test_scep.c: the seeds in tests/fuzz/corpus/scep/ are
 * encrypted to it.  A test key made for these tests (openssl genrsa 2048;
 * self-signed, "/O=Cairn Fuzz/CN=Cairn Fuzz SCEP RA"); it protects
 * nothing.
 */
#ifndef CAIRN_TEST_SCEP_RA_H
#define CAIRN_TEST_SCEP_RA_H

static const char ra_key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC5BJyvJ4gBU8jK\n"
	"HJc8s1D+CEtk9yv28Gghz0kRQbu7jm4EncXib/VkrN3TKTxNfymYXfgaowtplugn\n"
	"h0cmuojrVEbIJoXa92ll4KHKKfsmyjGUWTalaskFdZJ/P8XE78f/oG95uMjAPVRp\n"
	"GpNMO0gGmf2/wGLRGE7buzK1JpHssBCfiiKwNReueOAzO4QF/hbjA9s1PDyrkX/t\n"
	"CXiFi1lTO231dvafYbsVtIVilJ5a+kN13spZby/xMBfmEuGaqWAI9WjniVLbmo50\n"
	"xVEjZJTwhkx/yEsHCtU/M4kcCx8dhrrwF1rKlS5DLP6X8FHb5/HtgQ2eELFSvRo1\n"
	"u5tM0Ff1AgMBAAECggEAF07cRE6TxNhewQ4lWVlyYxuoD9ykQRQxMiKFychA/mmn\n"
	"iipWyGYiq8pWmahQt1Hv614vMtUxILNeT23XNKr8M7/8DhvtnKkIMfRAvZIDWJ7R\n"
	"QdHpX0vFbkwiUVM3Ns5JoPZVBNMWwJfD/10Aix0kFOd9FD/dfbT1E5u7fB8TSWtV\n"
	"JafIgTsEcq8fQ5gDaEKKVSs94xYhYYPj2Y/L8GvEeoR1x2VoTnTMnTAoHgFvJBRB\n"
	"km8KqenR1O9Q6U6nchjxOt/UNee1BUC7UUkFytG8EZKQBmP/m4t9uDIAN+J5GcoT\n"
	"0sU4InzHeu4jUIUk3BuWtbEZ4o+fZJYifYJdQrPVcwKBgQDp0AiFV35MeAhRpbNo\n"
	"tINABfbPKP+zwTMaOU9pb7a/m8NS8ScIiMyycaY8xd/VrPASLna0dK4z5UmgVIZs\n"
	"HI85QrJY/cQK3J9/qSUrYlhzrT0qf++c4PyH+xokmDQmeK6dVQG/PHnDd5IaoaoP\n"
	"iJ/VGUMcmjyHGxB8sEU8lDIMGwKBgQDKkzhkOc9AvSnYwa1TWEhI1C+PuZIoJzuE\n"
	"uJR9FNuQjjn2loKdf++ZJRAZMnwJTFw3l+Rzu5zyWU9lEFWz7uI69JhZjD7PkMn/\n"
	"Rpwme4SrHw9jrIePfdl3wrsKZskItTM6AgQzOFVuuLkkAz3sAQbL7Y4HzipgYWS9\n"
	"CR40BbRNLwKBgEwhQ5T/Lw2BC9xh4q/WDuJazskXJWMHJjeEr5m6GTv8YLXx9W6u\n"
	"9E+p96HUIBS38ZdJ77bEQzB8mOOOghJTnkLbt6yIPDv5KCnuDj85D2ni34amD4P6\n"
	"Md+o4BNIR7q7EsgBtMbqzw7ZMQZg2zmhl8FQL2zxv4GSS2T+FB0sd7s/AoGAKqGQ\n"
	"3IbN9vHYPKWFtGR/0dPVrol/GLQo8mVl2mzpSCKmUB6cnkiuQ6xpFuRo9gv73Dc6\n"
	"/KAfB2GEM+CcKKG9Omr/JNk+3q+50t8pPXABG4IN2wwT+z6g5XM1qZq38/0uKqcB\n"
	"+0V/tS1qyQllnqUYqRH1Me9RO7dDXATvNkN9DkECgYA2PZINWu2NeMwq0WrSgsPU\n"
	"iXPT5MDIG6HWLoS6Aih1brsLeL2QDd2mo0PnHkTILEPXeNQ0MFiykY6/2LLDPGuN\n"
	"g6MWKUrkdn6Yy0h38hynQAS/+FUt2/ReZVi+dtandXW+/KynN8K6hyWE/feEA73f\n"
	"t+PyRYjhp8AOoceoMxg1Og==\n"
	"-----END PRIVATE KEY-----\n";

static const char ra_cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDVzCCAj+gAwIBAgIUYDMQuotJyztUnb5PFxxMrgS9PZUwDQYJKoZIhvcNAQEL\n"
	"BQAwMjETMBEGA1UECgwKQ2Fpcm4gRnV6ejEbMBkGA1UEAwwSQ2Fpcm4gRnV6eiBT\n"
	"Q0VQIFJBMCAXDTI2MTIwMTE1MzkyOFoYDzIxMjYxMTA3MTUzOTI4WjAyMRMwEQYD\n"
	"VQQKDApDYWlybiBGdXp6MRswGQYDVQQDDBJDYWlybiBGdXp6IFNDRVAgUkEwggEi\n"
	"MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQC5BJyvJ4gBU8jKHJc8s1D+CEtk\n"
	"9yv28Gghz0kRQbu7jm4EncXib/VkrN3TKTxNfymYXfgaowtplugnh0cmuojrVEbI\n"
	"JoXa92ll4KHKKfsmyjGUWTalaskFdZJ/P8XE78f/oG95uMjAPVRpGpNMO0gGmf2/\n"
	"wGLRGE7buzK1JpHssBCfiiKwNReueOAzO4QF/hbjA9s1PDyrkX/tCXiFi1lTO231\n"
	"dvafYbsVtIVilJ5a+kN13spZby/xMBfmEuGaqWAI9WjniVLbmo50xVEjZJTwhkx/\n"
	"yEsHCtU/M4kcCx8dhrrwF1rKlS5DLP6X8FHb5/HtgQ2eELFSvRo1u5tM0Ff1AgMB\n"
	"AAGjYzBhMB0GA1UdDgQWBBRiEz6jRlg+NpYcInW9TEFVTD6nZDAfBgNVHSMEGDAW\n"
	"gBRiEz6jRlg+NpYcInW9TEFVTD6nZDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB\n"
	"/wQEAwIFoDANBgkqhkiG9w0BAQsFAAOCAQEATg3oFA+6xsxgn2lz9DsUlKMvhvFq\n"
	"wBf9r34w2XSDgHCzkT13LhFKsm/F9EL23CMa9JNLe7+k01U5t6Yd37duLJljDd0q\n"
	"z6o85k5RmWsV+qQ2tO6LWJ61dCyCEyNZNmyNapPfJrNbMNm0gyES5/AaAHDd35gy\n"
	"kuk4dZVJgP3NeQSS3LlH5cMdVQfvZMA1dc+XepMVGwUhAsR8JSWBUIaWH2Rimcdj\n"
	"vYnMLhw9Sp2NGBrXbsIfpbMCmWsOwXDQQN2domujG50n1cGhELFbyfCem0w3Hvnu\n"
	"D7uvu33vRVU0NqWiYqdUi1isvnkl4RAIse6reqLOOYrYeIPFcvmENoTS9Q==\n"
	"-----END CERTIFICATE-----\n";

#endif /* CAIRN_TEST_SCEP_RA_H */
