/* errors: a full disk, in the words of strerror and of Go (Kubo), is told
 * apart from other failures, and answered 507. */
#include <errno.h>
#include <string.h>
#include "core/errors.h"
#include "tests/unit/unit.h"

START_TEST(test_no_space)
{
    ck_assert(oci_msg_no_space(strerror(ENOSPC)));
    ck_assert(oci_msg_no_space(strerror(EDQUOT)));
    /* Kubo's message as the registry passes it on */
    ck_assert(oci_msg_no_space("store: upload 1f chunk 0: ipfs: add /u/1f/0: committing batch to "
                               "datastore at /blocks: failed to write to temp file: write "
                               "/repo/blocks/.temp/x.data: no space left on device (HTTP 500)"));
    ck_assert(!oci_msg_no_space("store: commit blob: ipfs: files/cp: file does not exist"));
    ck_assert(!oci_msg_no_space(strerror(EIO)));
    ck_assert(!oci_msg_no_space(""));
    ck_assert(!oci_msg_no_space(NULL));
    ck_assert_int_eq(oci_err_status(OCI_NO_SPACE), 507);
    ck_assert_str_eq(oci_err_code(OCI_NO_SPACE), "UNKNOWN");
}
END_TEST

Suite *suite_errors(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_no_space);
    suite_add_tcase(s, tc);
    return s;
}
