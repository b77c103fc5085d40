/* html: writing HTML into a capped buffer (core/buf.h) so that nothing that
 * came from outside can become markup. Every string a page prints that it
 * did not write itself (repository and tag names of mirrored roots, which
 * may hold anything but '/'; annotations and artifact types pushed by
 * clients) goes through html_text (element content and quoted attribute
 * values alike) or html_query (a value inside a link's query). Links taken
 * from content go through html_url_safe first.
 *
 * Every function returns 0, or -1 when the buffer's cap was reached (the
 * buffer is then freed and empty, as buf_append leaves it): the page is
 * too large, and the caller answers an error instead. */
#ifndef CORE_UI_HTML_H
#define CORE_UI_HTML_H
#include <stddef.h>
#include "core/buf.h"

/* Trusted markup, as is (a literal the page itself wrote). */
int html_raw(struct buf *b, const char *s);
/* Text escaped for element content and double- or single-quoted attribute
 * values: & < > " ' become entities; control characters other than tab
 * and newline become U+FFFD, so no byte of s is markup. */
int html_text(struct buf *b, const char *s);
/* s percent-encoded for a query value (RFC 3986 unreserved bytes kept),
 * which is also safe inside a quoted attribute. */
int html_query(struct buf *b, const char *s);
/* 1 if u may be a link's href: http:// or https:// (any case), then a
 * host, and no control character or space; never javascript:, data: or a
 * relative reference. */
int html_url_safe(const char *u);

#endif
