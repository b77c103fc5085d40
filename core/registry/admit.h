/* admit: whether a request may start now, before its handler runs.
 *
 * A worker serves one request at a time, and one that reads a request body
 * (a blob's bytes, a manifest) is held for as long as the client takes to
 * send it: one byte a second holds it for days. So reading a body takes one
 * of `upload_workers` slots shared by all workers (core/slots.h), and the
 * worker says so (body_begun): the master starts another worker in its
 * place, so `workers` stay free for pulls whatever uploads do
 * (fcgi/master.c). When no slot is free the request is answered 429
 * TOOMANYREQUESTS with Retry-After at once, without reading its body. Requests whose body is not read
 * (every GET and HEAD, DELETE, the POST that opens a session or mounts, a
 * final PUT with Content-Length: 0) never need a slot. */
#ifndef CORE_REGISTRY_ADMIT_H
#define CORE_REGISTRY_ADMIT_H
#include "core/http.h"
#include "core/registry/registry.h"

/* Before the handler: 0 to go on (holding a slot if the request carries a
 * body), -1 when it was answered 429. Slots that cannot be had for an
 * error of their own (statedir unwritable) are logged and not enforced:
 * they protect the pulls, they are no reason to refuse a push. */
int admit_begin(struct registry *reg, struct request *req, struct response *resp);
/* After the handler: gives back the slot admit_begin took, if any. */
void admit_end(struct registry *reg);

#endif
