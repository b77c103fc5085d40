/* edge: one FastCGI request (libfcgi) turned into a struct request and a
 * struct response for core/registry, and finished so the client can tell a
 * complete response from a failed one. The only module besides worker.c that
 * sees libfcgi types; nothing outside fcgi/ (but the unit tests, through
 * fcgi/edge_internal.h) includes fcgiapp.h. */
#ifndef FCGI_EDGE_H
#define FCGI_EDGE_H
#include <fcgiapp.h>
#include "core/registry/registry.h"

/* Serves the request FCGX_Accept_r just accepted on fr through reg and ends
 * it: FCGX_Finish_r when the response is whole, or, when it was aborted, the
 * connection is closed without FCGI_END_REQUEST (the front server then fails
 * the response instead of passing on a short body). Either way fr is ready for
 * the next FCGX_Accept_r. Logs one access line at info level. */
void edge_serve(FCGX_Request *fr, struct registry *reg);

#endif
